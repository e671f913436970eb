import type { Config } from "../config.js";
import type { PaymentGateway } from "./gateway.js";
import { LocalGateway } from "./local-gateway.js";
import { StripeGateway } from "./stripe-gateway.js";

/**
 * The gateway the environment asks for: Stripe Checkout when a secret key is
 * set (loadConfig already insists on the webhook secret with it), otherwise
 * the built-in local payment page. The server and `npm run reconcile` both
 * use this, so they always talk to the same provider.
 */
export function createPaymentGateway(config: Pick<Config, "STRIPE_SECRET_KEY" | "STRIPE_WEBHOOK_SECRET">): PaymentGateway {
  if (config.STRIPE_SECRET_KEY && config.STRIPE_WEBHOOK_SECRET) {
    return new StripeGateway({ secretKey: config.STRIPE_SECRET_KEY, webhookSecret: config.STRIPE_WEBHOOK_SECRET });
  }
  return new LocalGateway();
}
