/**
 * What checkout needs from a payment provider, in our own terms. Two
 * implementations: Stripe Checkout (stripe-gateway.ts) and the built-in local
 * payment page (local-gateway.ts) that makes `npm start` work offline.
 */
export interface CheckoutRequest {
  orderId: string;
  orderNumber: number;
  currency: string;
  email?: string | null;
  locale: "en" | "fa";
  lines: { title: string; unitAmountMinor: number; quantity: number; imageUrl?: string | null }[];
  /** Our computed discount; the provider must charge exactly subtotal − discount + shipping. */
  discountMinor: number;
  discountLabel?: string | null;
  shippingOptions: ShippingOption[];
  /** Absolute URL of the storefront (mount path included). */
  returnBase: string;
  successUrl: string;
  cancelUrl: string;
  expiresAt: Date;
}

export interface ShippingOption {
  id: string;
  label: string;
  /** The label on Persian pages; `label` when not given. */
  labelFa?: string;
  amountMinor: number;
}

/** An option's label in the page's language. */
export function shippingLabel(option: Pick<ShippingOption, "label" | "labelFa">, locale: string): string {
  return locale === "fa" && option.labelFa ? option.labelFa : option.label;
}

export interface HostedCheckout {
  /** The provider's id for the checkout (Stripe: cs_…; local: loc_…). */
  ref: string;
  /** Where to send the shopper. */
  url: string;
}

/** A completed (or not) checkout, as the provider saw it. */
export interface CheckoutOutcome {
  ref: string;
  orderId: string | null;
  status: "open" | "complete" | "expired";
  paid: boolean;
  amountTotalMinor: number | null;
  currency: string | null;
  paymentIntentId: string | null;
  email: string | null;
  name: string | null;
  address: Record<string, unknown> | null;
  shippingMinor: number | null;
}

export interface PaymentGateway {
  readonly provider: "local" | "stripe";
  createCheckout(request: CheckoutRequest, idempotencyKey: string): Promise<HostedCheckout>;
  getCheckout(ref: string): Promise<CheckoutOutcome>;
  /** Best effort: stop a checkout from being paid (hold released, order cancelled). */
  expireCheckout(ref: string): Promise<void>;
  refund(input: { paymentIntentId: string; amountMinor: number; idempotencyKey: string; orderId: string }): Promise<{ refundId: string }>;
}
