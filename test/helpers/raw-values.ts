import * as cheerio from "cheerio";
import type { AnyNode, Element } from "domhandler";

/**
 * Values the code stores (statuses, platforms, verification levels, kinds,
 * scopes, reasons, shipping ids) that must reach people as words in their
 * language, never as the stored token.
 */
export const RAW_VALUES = [
  // order, product, post, review, question, email, follower, coupon statuses
  "pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded", "draft", "active", "archived", "published", "hidden",
  "rejected", "queued", "sent", "failed", "unfollowed", "erased", "reserved", "committed", "released", "disabled",
  // platforms
  "instagram", "facebook", "tiktok", "pinterest", "youtube", "telegram", "whatsapp",
  // follower verification, coupon kinds and scopes
  "any", "imported", "both", "percent", "fixed", "free_shipping", "all", "products", "collections",
  // shipping option ids, media types, review sources, audit actors, reasons
  "standard", "express", "image", "video", "web", "request", "admin", "api", "system", "shopper",
  "admin_cancelled", "shopper_cancelled", "expired", "superseded", "payment_provider_error", "payment_failed", "refund_needed",
  "in_stock", "out_of_stock", "sold_out",
];

// A token on its own, not part of an address, a file name or a channel name ("instagram.com", "products.csv", "instagram-story").
const TOKEN = new RegExp(`(^|[^A-Za-z_./@-])(${RAW_VALUES.join("|")})(?![A-Za-z_./@-])`);

/**
 * Text on a page that is a stored value rather than a word for people. User
 * text is skipped (it is isolated with <bdi> or dir="auto", see rtl.ts), and
 * so is <code> (identifiers shown as identifiers). On an English page a value
 * counts when it is the whole text of an element, in its stored lower case
 * ("pending", "(standard)"); on a Persian page any of them in Latin letters.
 */
export function rawValuesIn(html: string, locale: "en" | "fa"): string[] {
  const $ = cheerio.load(html);
  const found: string[] = [];
  const skipped = (start: Element): boolean => {
    // The page's own <html dir> is not an isolation: stop below it.
    for (let e: Element | null = start; e && e.type === "tag" && e.name !== "html"; e = e.parent as Element | null) {
      if (["bdi", "code", "script", "style", "title", "textarea", "template", "noscript"].includes(e.name)) return true;
      const dir = $(e).attr("dir");
      if (dir === "auto" || dir === "ltr") return true;
      if ($(e).attr("aria-hidden") === "true" || $(e).attr("hidden") !== undefined) return true;
    }
    return false;
  };
  const visit = (node: AnyNode) => {
    if (node.type === "text") {
      const text = node.data.replace(/\u2068[^\u2069]*\u2069/g, "").trim();
      const parent = node.parent as Element | null;
      if (text && parent && !skipped(parent)) {
        const bare = text.replace(/^[(\s·:,—-]+|[)\s·:,.—-]+$/g, "");
        const raw = locale === "en" ? RAW_VALUES.includes(bare) || /[a-z]+_[a-z_]+/.test(text) && RAW_VALUES.some((v) => v.includes("_") && text.includes(v)) : TOKEN.test(text);
        if (raw) found.push(`"${text.slice(0, 80)}" in <${parent.name}${$(parent).attr("class") ? ` class="${$(parent).attr("class")}"` : ""}>`);
      }
    }
    if ("children" in node) for (const child of node.children) visit(child);
  };
  visit($("body")[0]!);
  return found;
}
