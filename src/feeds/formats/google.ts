import { apparelSeverity, isApparel, isClothingOrShoes, type FeedContext } from "../feeds.rules.js";
import type { FeedField, FeedFormat, FeedItem } from "./item.js";

/**
 * Text for XML 1.0 element content: "&", "<" and ">" escaped (quotes need no
 * escaping outside attributes), and the control characters XML forbids
 * (below U+0020 except tab and line breaks) dropped, since one of them would
 * make the whole file unparseable. One pass, and none for the many values
 * (ids, prices, image URLs) that need nothing.
 */
const SPECIAL = /[&<>\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const SPECIAL_ALL = new RegExp(SPECIAL.source, "g");
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

const SPECIAL_BUT_AMP = /[<>\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function xmlText(value: string): string {
  if (!SPECIAL.test(value)) return value;
  // Links with query strings have only "&": a plain replaceAll, no callback.
  if (!SPECIAL_BUT_AMP.test(value)) return value.replaceAll("&", "&amp;");
  return value.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? "");
}

function el(name: string, value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "" : `<${name}>${xmlText(String(value))}</${name}>\n`;
}

function elements(field: FeedField, item: FeedItem): string {
  const value = field.value(item);
  if (Array.isArray(value)) return value.map((v) => el(field.name, v)).join("");
  return el(field.name, value as string | number | null);
}

const apparel = (i: FeedItem, ctx: FeedContext) => (isApparel(i.googleCategory) ? apparelSeverity(ctx) : null);
const clothingOrShoes = (i: FeedItem, ctx: FeedContext) => (isClothingOrShoes(i.googleCategory) ? apparelSeverity(ctx) : null);

/**
 * Merchant Center product data: required id, title, description, link,
 * image_link, availability, price, condition; brand (or GTIN/MPN) unless
 * identifier_exists is no; color, gender and age_group for apparel (size for
 * clothing and shoes) where the target country requires them.
 */
const FIELDS: readonly FeedField[] = [
  { name: "g:id", value: (i) => i.id, required: { rule: "field_missing" } },
  { name: "title", value: (i) => i.title, required: { rule: "title_missing" } },
  { name: "link", value: (i) => i.link, required: { rule: "field_missing" } },
  { name: "g:image_link", value: (i) => i.imageLink, required: { rule: "image_missing" } },
  { name: "g:availability", value: (i) => i.availability, required: { rule: "field_missing" } },
  { name: "g:price", value: (i) => i.price, required: { rule: "field_missing" } },
  { name: "g:sale_price", value: (i) => i.salePrice },
  { name: "g:gtin", value: (i) => i.gtin },
  { name: "g:mpn", value: (i) => i.mpn },
  { name: "g:identifier_exists", value: (i) => (i.identifierExists ? null : "no") },
  { name: "g:color", value: (i) => i.color, required: { rule: "color_missing", severity: apparel } },
  { name: "g:size", value: (i) => i.size, required: { rule: "size_missing", severity: clothingOrShoes } },
  { name: "g:gender", value: (i) => i.gender, required: { rule: "gender_missing", severity: apparel }, perProduct: true },
  { name: "g:age_group", value: (i) => i.ageGroup, required: { rule: "age_group_missing", severity: apparel }, perProduct: true },
  { name: "g:material", value: (i) => i.material },
  { name: "g:pattern", value: (i) => i.pattern },
  { name: "description", value: (i) => i.description, required: { rule: "description_missing" }, perProduct: true },
  { name: "g:additional_image_link", value: (i) => i.additionalImageLinks.slice(0, 10), perProduct: true },
  { name: "g:condition", value: (i) => i.condition, required: { rule: "field_missing" }, perProduct: true },
  {
    name: "g:brand",
    value: (i) => i.brand,
    // identifier_exists = no (handmade) needs nothing; otherwise a brand unless a GTIN or MPN identifies it.
    required: { rule: "identifiers_missing", severity: (i) => (i.identifierExists && !i.gtin && !i.mpn ? "error" : null) },
    perProduct: true,
  },
  { name: "g:google_product_category", value: (i) => i.googleCategory, perProduct: true },
  { name: "g:product_type", value: (i) => i.productType, perProduct: true },
  { name: "g:item_group_id", value: (i) => i.itemGroupId, perProduct: true },
];

const VARIANT_FIELDS = FIELDS.filter((f) => !f.perProduct);
const PRODUCT_FIELDS = FIELDS.filter((f) => f.perProduct);

// Variants of a product come one after another and share the per-product
// elements: write them once per product, not once per variant, and encode
// them to UTF-8 once too (the description is usually the only non-ASCII
// text of an item, and any non-ASCII character sends the encoding of the
// whole string down V8's slow path). The cache is checked value by value, so
// an edited product can never reuse an old fragment.
let lastProduct: { values: unknown[]; bytes: Buffer } | null = null;

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, n) => v === b[n]);
  return a === b;
}

/** The per-product elements and the item's end tag, as UTF-8. */
function productPart(i: FeedItem): Buffer {
  const values = PRODUCT_FIELDS.map((f) => f.value(i));
  if (lastProduct && values.every((v, n) => sameValue(v, lastProduct!.values[n]))) return lastProduct.bytes;
  const bytes = Buffer.from(`${PRODUCT_FIELDS.map((f) => elements(f, i)).join("")}</item>\n`);
  lastProduct = { values, bytes };
  return bytes;
}

/** Merchant Center product data in RSS 2.0 with the g: namespace. */
export const googleFeed: FeedFormat = {
  contentType: "application/rss+xml; charset=utf-8",
  fileName: "google.xml",
  fields: FIELDS,
  head: (channel) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">\n<channel>\n` +
    el("title", channel.title) +
    el("link", channel.link) +
    el("description", channel.description),
  item: (i: FeedItem) => {
    let xml = "<item>\n";
    for (const f of VARIANT_FIELDS) xml += elements(f, i);
    return [xml, productPart(i)];
  },
  tail: () => "</channel>\n</rss>\n",
};
