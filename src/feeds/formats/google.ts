import type { FeedFormat, FeedItem } from "./item.js";

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

// Variants of a product come one after another and share these elements:
// write them once per product, not once per variant. The cache is checked
// field by field, so an edited product can never reuse an old fragment.
type ProductPart = Pick<FeedItem, "itemGroupId" | "description" | "condition" | "brand" | "googleCategory" | "productType" | "additionalImageLinks">;
let lastProduct: (ProductPart & { xml: string }) | null = null;

function productPart(i: FeedItem): string {
  const c = lastProduct;
  if (
    c &&
    c.itemGroupId === i.itemGroupId &&
    c.description === i.description &&
    c.condition === i.condition &&
    c.brand === i.brand &&
    c.googleCategory === i.googleCategory &&
    c.productType === i.productType &&
    c.additionalImageLinks.length === i.additionalImageLinks.length &&
    c.additionalImageLinks.every((u, n) => u === i.additionalImageLinks[n])
  ) {
    return c.xml;
  }
  const xml =
    el("description", i.description) +
    i.additionalImageLinks.slice(0, 10).map((u) => el("g:additional_image_link", u)).join("") +
    el("g:condition", i.condition) +
    el("g:brand", i.brand) +
    el("g:google_product_category", i.googleCategory) +
    el("g:product_type", i.productType) +
    el("g:item_group_id", i.itemGroupId);
  lastProduct = { ...i, xml };
  return xml;
}

/** Merchant Center product data in RSS 2.0 with the g: namespace. */
export const googleFeed: FeedFormat = {
  contentType: "application/rss+xml; charset=utf-8",
  fileName: "google.xml",
  head: (channel) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">\n<channel>\n` +
    el("title", channel.title) +
    el("link", channel.link) +
    el("description", channel.description),
  item: (i: FeedItem) =>
    "<item>\n" +
    el("g:id", i.id) +
    el("title", i.title) +
    el("link", i.link) +
    el("g:image_link", i.imageLink) +
    el("g:availability", i.availability) +
    el("g:price", i.price) +
    el("g:sale_price", i.salePrice) +
    el("g:gtin", i.gtin) +
    el("g:mpn", i.mpn) +
    (i.identifierExists ? "" : "<g:identifier_exists>no</g:identifier_exists>\n") +
    el("g:color", i.color) +
    el("g:size", i.size) +
    el("g:material", i.material) +
    el("g:pattern", i.pattern) +
    productPart(i) +
    "</item>\n",
  tail: () => "</channel>\n</rss>\n",
};
