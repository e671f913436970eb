import type Stripe from "stripe";
import { lazyModule } from "../lazy.js";
import type { CheckoutOutcome, CheckoutRequest, HostedCheckout, PaymentGateway } from "./gateway.js";

const stripeSdk = lazyModule<typeof Stripe>("stripe");

export interface StripeGatewayOptions {
  secretKey: string;
  webhookSecret: string;
  /** Tests point the real SDK at a fake Stripe server. */
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  /** Countries Checkout collects shipping addresses for (ISO 3166-1 alpha-2). */
  allowedCountries?: Stripe.Checkout.SessionCreateParams.ShippingAddressCollection.AllowedCountry[];
}

/**
 * Stripe Checkout behind our gateway interface. Every write carries an
 * idempotency key derived from the order, so a retried request (ours or the
 * SDK's) never creates a second session, coupon or refund.
 */
export class StripeGateway implements PaymentGateway {
  readonly provider = "stripe" as const;
  #client: Stripe | undefined;

  constructor(private readonly options: StripeGatewayOptions) {}

  /** The SDK client, made on first use: the SDK is loaded only when a payment needs it. */
  get stripe(): Stripe {
    return (this.#client ??= new (stripeSdk())(this.options.secretKey, {
      maxNetworkRetries: 2,
      timeout: 20_000,
      ...(this.options.host ? { host: this.options.host, port: this.options.port, protocol: this.options.protocol ?? "https" } : {}),
    }));
  }

  async createCheckout(request: CheckoutRequest, idempotencyKey: string): Promise<HostedCheckout> {
    const currency = request.currency.toLowerCase();
    // Our discount is computed by our coupon rules; Stripe gets it as a
    // one-off amount-off coupon so the amount charged equals our total.
    let discounts: Stripe.Checkout.SessionCreateParams.Discount[] | undefined;
    if (request.discountMinor > 0) {
      const coupon = await this.stripe.coupons.create(
        { amount_off: request.discountMinor, currency, duration: "once", name: (request.discountLabel ?? "Discount").slice(0, 40), max_redemptions: 1 },
        { idempotencyKey: `${idempotencyKey}:coupon` },
      );
      discounts = [{ coupon: coupon.id }];
    }
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: "payment",
        client_reference_id: request.orderId,
        metadata: { orderId: request.orderId, orderNumber: String(request.orderNumber) },
        payment_intent_data: { metadata: { orderId: request.orderId } },
        customer_email: request.email ?? undefined,
        locale: request.locale === "fa" ? "auto" : "en",
        line_items: request.lines.map((l) => ({
          quantity: l.quantity,
          price_data: {
            currency,
            unit_amount: l.unitAmountMinor,
            product_data: { name: l.title.slice(0, 250), ...(l.imageUrl ? { images: [l.imageUrl] } : {}) },
          },
        })),
        ...(discounts ? { discounts } : {}),
        shipping_address_collection: { allowed_countries: this.options.allowedCountries ?? DEFAULT_COUNTRIES },
        shipping_options: request.shippingOptions.map((o) => ({
          shipping_rate_data: { type: "fixed_amount", display_name: o.label, fixed_amount: { amount: o.amountMinor, currency }, metadata: { optionId: o.id } },
        })),
        success_url: request.successUrl,
        cancel_url: request.cancelUrl,
        expires_at: Math.floor(request.expiresAt.getTime() / 1000),
      },
      { idempotencyKey: `${idempotencyKey}:session` },
    );
    if (!session.url) throw new Error("Stripe returned a checkout session without a URL");
    return { ref: session.id, url: session.url };
  }

  async getCheckout(ref: string): Promise<CheckoutOutcome> {
    return outcomeOf(await this.stripe.checkout.sessions.retrieve(ref));
  }

  async expireCheckout(ref: string): Promise<void> {
    try {
      await this.stripe.checkout.sessions.expire(ref);
    } catch (err) {
      // Already complete or expired: nothing to stop.
      if (!(err instanceof stripeSdk().errors.StripeInvalidRequestError)) throw err;
    }
  }

  async refund(input: { paymentIntentId: string; amountMinor: number; idempotencyKey: string; orderId: string }): Promise<{ refundId: string }> {
    const refund = await this.stripe.refunds.create(
      { payment_intent: input.paymentIntentId, amount: input.amountMinor, metadata: { orderId: input.orderId } },
      { idempotencyKey: input.idempotencyKey },
    );
    return { refundId: refund.id };
  }

  /**
   * The order a PaymentIntent was made for (createCheckout puts it in the
   * intent's metadata), or null when the intent is not ours. For a refund
   * event that overtakes the payment it refunds.
   */
  async orderIdForPayment(paymentIntentId: string): Promise<string | null> {
    try {
      const intent = await this.stripe.paymentIntents.retrieve(paymentIntentId);
      return intent.metadata?.orderId ?? null;
    } catch (err) {
      if (err instanceof stripeSdk().errors.StripeInvalidRequestError && err.statusCode === 404) return null;
      throw err;
    }
  }

  /** Verifies the Stripe-Signature header against the raw body; throws if it does not match. */
  parseWebhook(rawBody: Buffer, signature: string): Stripe.Event {
    return this.stripe.webhooks.constructEvent(rawBody, signature, this.options.webhookSecret);
  }
}

export function outcomeOf(session: Stripe.Checkout.Session): CheckoutOutcome {
  const shipping = session.collected_information?.shipping_details ?? null;
  return {
    ref: session.id,
    orderId: session.metadata?.orderId ?? session.client_reference_id ?? null,
    status: session.status === "complete" ? "complete" : session.status === "expired" ? "expired" : "open",
    paid: session.payment_status === "paid" || session.payment_status === "no_payment_required",
    amountTotalMinor: session.amount_total,
    currency: session.currency ? session.currency.toUpperCase() : null,
    paymentIntentId: typeof session.payment_intent === "string" ? session.payment_intent : (session.payment_intent?.id ?? null),
    email: session.customer_details?.email ?? null,
    name: shipping?.name ?? session.customer_details?.name ?? null,
    address: (shipping?.address ?? session.customer_details?.address ?? null) as Record<string, unknown> | null,
    shippingMinor: session.shipping_cost?.amount_total ?? null,
  };
}

// Stripe needs an explicit list of countries to collect addresses for; a shop
// that ships elsewhere passes `allowedCountries`.
const DEFAULT_COUNTRIES: Stripe.Checkout.SessionCreateParams.ShippingAddressCollection.AllowedCountry[] = [
  "US", "CA", "GB", "IE", "DE", "FR", "NL", "BE", "AT", "ES", "IT", "PT", "SE", "DK", "FI", "NO", "CH", "PL", "CZ", "AU", "NZ", "JP", "SG", "AE", "TR",
];
