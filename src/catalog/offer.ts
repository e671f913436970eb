/**
 * The one place that decides what a variant costs and whether it can be
 * bought. The product page, its JSON-LD and every platform feed call this, so
 * Google never sees a feed price that differs from the landing page.
 */
export type Availability = "in_stock" | "out_of_stock";

export interface OfferInput {
  id: string;
  priceMinor: number;
  compareAtMinor: number | null;
  currency: string;
  stock: number;
}

export interface Offer {
  variantId: string;
  priceMinor: number;
  /** Only when it is really higher than the price (a sale). */
  compareAtMinor: number | null;
  currency: string;
  /** Units a shopper can buy now: stock minus active holds, never below 0. */
  available: number;
  availability: Availability;
}

export const LOW_STOCK = 3;

export function offerFor(variant: OfferInput, heldQuantity = 0): Offer {
  const available = Math.max(0, variant.stock - heldQuantity);
  return {
    variantId: variant.id,
    priceMinor: variant.priceMinor,
    compareAtMinor: variant.compareAtMinor !== null && variant.compareAtMinor > variant.priceMinor ? variant.compareAtMinor : null,
    currency: variant.currency,
    available,
    availability: available > 0 ? "in_stock" : "out_of_stock",
  };
}
