import type { Availability } from "../../catalog/offer.js";

/** One variant, ready for any platform: cleaned text, absolute URLs, formatted prices. */
export interface FeedItem {
  id: string;
  itemGroupId: string;
  sku: string;
  title: string;
  description: string;
  link: string;
  imageLink: string;
  additionalImageLinks: string[];
  availability: Availability;
  /** Units a shopper can buy now (offerFor().available). */
  available: number;
  /** Regular price: the compare-at price while on sale, else the price. */
  price: string;
  /** What a shopper pays while on sale; null when not on sale. */
  salePrice: string | null;
  condition: string;
  brand: string;
  gtin: string | null;
  mpn: string | null;
  identifierExists: boolean;
  googleCategory: string;
  productType: string;
  color: string | null;
  size: string | null;
  material: string | null;
  pattern: string | null;
  /** Average of the product's published reviews, "4.6"; null without reviews. */
  averageReviewRating: string | null;
  reviewCount: number;
}

/** Writes one platform's file: a head, one chunk per item, a tail. */
export interface FeedFormat {
  contentType: string;
  fileName: string;
  head(channel: { title: string; link: string; description: string }): string;
  item(item: FeedItem): string;
  tail(): string;
}
