import type { FeedFormat, FeedItem } from "./item.js";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/**
 * Text for XML 1.0: markup characters escaped, and the control characters
 * XML forbids (everything below U+0020 except tab and line breaks) dropped,
 * since one of them would make the whole file unparseable.
 */
const NEEDS_WORK = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function xmlText(value: string): string {
  // Most values (ids, prices, URLs without "&") need nothing: one test, no copies.
  if (!NEEDS_WORK.test(value)) return value;
  return value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "").replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function el(name: string, value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "" : `<${name}>${xmlText(String(value))}</${name}>\n`;
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
    el("description", i.description) +
    el("link", i.link) +
    el("g:image_link", i.imageLink) +
    i.additionalImageLinks.slice(0, 10).map((u) => el("g:additional_image_link", u)).join("") +
    el("g:availability", i.availability) +
    el("g:price", i.price) +
    el("g:sale_price", i.salePrice) +
    el("g:condition", i.condition) +
    el("g:brand", i.brand) +
    el("g:gtin", i.gtin) +
    el("g:mpn", i.mpn) +
    (i.identifierExists ? "" : el("g:identifier_exists", "no")) +
    el("g:google_product_category", i.googleCategory) +
    el("g:product_type", i.productType) +
    el("g:item_group_id", i.itemGroupId) +
    el("g:color", i.color) +
    el("g:size", i.size) +
    el("g:material", i.material) +
    el("g:pattern", i.pattern) +
    "</item>\n",
  tail: () => "</channel>\n</rss>\n",
};
