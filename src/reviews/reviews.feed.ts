/**
 * Google product review feed (XML schema 2.4), /feeds/google-reviews.xml.
 *
 * Google treats it as the full list: a review missing from the next fetch is
 * deleted on their side, so every published review is in every fetch and an
 * unpublished one drops out. Reviews are read in keyset batches and written
 * as they are read, so memory stays flat however many there are.
 */
import type { Deps } from "../deps.js";
import { mediaPath } from "../media/media.paths.js";

const BATCH = 500;

export function xmlEscape(value: string): string {
  return value
    // Characters XML 1.0 does not allow at all.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const el = (name: string, value: string, attrs = "") => `<${name}${attrs}>${xmlEscape(value)}</${name}>`;

/** Writes the whole feed through `write`; resolves when the last review is written. */
export async function writeGoogleReviewFeed(deps: Deps, input: { publicBase: string; write: (chunk: string) => Promise<void> | void }) {
  const base = input.publicBase;
  await input.write(
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<feed xmlns:vc="http://www.w3.org/2007/XMLSchema-versioning" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd">\n` +
      `<version>2.4</version>\n<publisher>${el("name", deps.shop.name)}${el("favicon", `${base}/assets/img/favicon.svg`)}</publisher>\n<reviews>\n`,
  );
  let cursor: string | undefined;
  for (;;) {
    const batch = await deps.db.review.findMany({
      where: { status: "published" },
      orderBy: { id: "asc" },
      take: BATCH,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      include: {
        product: { select: { slug: true, title: true, brand: true, variants: { where: { archivedAt: null }, select: { sku: true, gtin: true, mpn: true }, orderBy: [{ position: "asc" }, { id: "asc" }] } } },
        variant: { select: { sku: true, gtin: true, mpn: true } },
        photos: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: { select: { storageKey: true } } } },
      },
    });
    if (batch.length === 0) break;
    cursor = batch[batch.length - 1]!.id;
    let chunk = "";
    for (const r of batch) {
      const ids = r.variant ? [r.variant] : r.product.variants;
      const gtins = ids.map((v) => v.gtin).filter((g): g is string => !!g);
      const mpns = ids.map((v) => v.mpn).filter((m): m is string => !!m);
      const productUrl = `${base}/p/${r.product.slug}`;
      chunk +=
        `<review>` +
        el("review_id", r.id) +
        `<reviewer>${el("name", r.displayName, ' is_anonymous="false"')}</reviewer>` +
        el("is_verified_purchase", String(r.verifiedBuyer)) +
        el("is_incentivized_review", String(r.incentivized)) +
        el("review_timestamp", (r.publishedAt ?? r.createdAt).toISOString()) +
        (r.title ? el("title", r.title) : "") +
        el("content", r.body) +
        el("review_language", r.locale) +
        // The product page lists many reviews, hence "group".
        el("review_url", `${productUrl}#review-${r.id}`, ' type="group"') +
        (r.photos.length ? `<reviewer_images>${r.photos.map((p) => `<reviewer_image>${el("url", `${base}${mediaPath(p.media.storageKey, "square")}`)}</reviewer_image>`).join("")}</reviewer_images>` : "") +
        `<ratings>${el("overall", String(r.rating), ' min="1" max="5"')}</ratings>` +
        `<products><product><product_ids>` +
        (gtins.length ? `<gtins>${gtins.map((g) => el("gtin", g)).join("")}</gtins>` : "") +
        (mpns.length ? `<mpns>${mpns.map((m) => el("mpn", m)).join("")}</mpns>` : "") +
        (ids.length ? `<skus>${ids.map((v) => el("sku", v.sku)).join("")}</skus>` : "") +
        (r.product.brand ? `<brands>${el("brand", r.product.brand)}</brands>` : "") +
        `</product_ids>${el("product_name", r.product.title)}${el("product_url", productUrl)}</product></products>` +
        el("is_spam", "false") +
        // A review sent through our request link was solicited after the order; anything else was not.
        el("collection_method", r.source === "request" ? "post_fulfillment" : "unsolicited") +
        `</review>\n`;
    }
    await input.write(chunk);
    if (batch.length < BATCH) break;
  }
  await input.write(`</reviews>\n</feed>\n`);
}
