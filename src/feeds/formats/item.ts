import type { Availability } from "../../catalog/offer.js";
import type { RequiredField } from "../feeds.rules.js";

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
  /** The variant's Colour / Size option, else the product's own field. */
  color: string | null;
  size: string | null;
  /** male | female | unisex */
  gender: string | null;
  /** newborn | infant | toddler | kids | adult */
  ageGroup: string | null;
  material: string | null;
  pattern: string | null;
  /** Average of the product's published reviews, "4.6"; null without reviews. */
  averageReviewRating: string | null;
  reviewCount: number;
}

/**
 * One field of a platform's file: the column (CSV) or element (XML) name, the
 * value written, and, when the platform needs it, the rule Feed health
 * reports if that value is empty. The writer and the judgement read the same
 * list, so a required column can never go out empty unnoticed.
 */
export interface FeedField extends RequiredField<FeedItem> {
  /** Same for every variant of a product (the XML writer writes it once per product). */
  perProduct?: boolean;
}

/**
 * What a format hands the writer: text, or bytes already encoded (a part many
 * items share, encoded once rather than once per item).
 */
export type FeedChunk = string | Uint8Array;

/** Writes one platform's file: a head, one chunk (or a few, in order) per item, a tail. */
export interface FeedFormat {
  contentType: string;
  fileName: string;
  /** Every field the file has, in order; `required` ones are checked before an item is written. */
  fields: readonly FeedField[];
  head(channel: { title: string; link: string; description: string }): string;
  item(item: FeedItem): FeedChunk | readonly FeedChunk[];
  tail(): string;
}
