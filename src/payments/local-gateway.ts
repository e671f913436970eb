import { createHash, randomBytes } from "node:crypto";
import type { CheckoutOutcome, CheckoutRequest, HostedCheckout, PaymentGateway } from "./gateway.js";

/**
 * The embedded default: the "provider" is a page inside the shop (/pay/:ref)
 * where a tester pays, fails or cancels. That page calls the same order
 * functions a Stripe webhook does, so the whole flow runs with no network.
 * It never moves money; the README says so.
 */
export class LocalGateway implements PaymentGateway {
  readonly provider = "local" as const;

  async createCheckout(request: CheckoutRequest, _idempotencyKey: string): Promise<HostedCheckout> {
    const ref = `loc_${randomBytes(16).toString("base64url")}`;
    // The page is opened with the shopper's own order key (from the success
    // URL), which is what authorises paying or cancelling there.
    const key = new URL(request.successUrl).searchParams.get("key") ?? "";
    // Where "cancel" returns to (a live show instead of the cart), as Stripe's cancel_url would.
    const back = new URL(request.cancelUrl).searchParams.get("back");
    return { ref, url: `${request.returnBase}/pay/${ref}?key=${encodeURIComponent(key)}${back ? `&back=${encodeURIComponent(back)}` : ""}` };
  }

  /** The local page records its outcome directly; nothing to ask a provider. */
  async getCheckout(ref: string): Promise<CheckoutOutcome> {
    return { ref, orderId: null, status: "open", paid: false, amountTotalMinor: null, currency: null, paymentIntentId: null, email: null, name: null, address: null, shippingMinor: null };
  }

  async expireCheckout(_ref: string): Promise<void> {}

  /** Like Stripe, the same idempotency key answers with the same refund, so a retried request refunds once. */
  async refund(input: { paymentIntentId: string; amountMinor: number; idempotencyKey: string }): Promise<{ refundId: string }> {
    return { refundId: `locre_${createHash("sha256").update(input.idempotencyKey).digest("base64url").slice(0, 24)}` };
  }
}
