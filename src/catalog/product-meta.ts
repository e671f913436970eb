import { formatFeedPrice } from "../i18n/format.js";
import { mediaPath } from "../media/media.paths.js";
import type { ProductPage } from "./catalog.service.js";

/** Plain text for meta tags: no markup, collapsed whitespace, cut at a word. */
export function summarize(text: string, max = 200): string {
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  if (plain.length <= max) return plain;
  const cut = plain.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max / 2))}…`;
}

/**
 * schema.org Product with one Offer per variant, from the same offers the page
 * shows (and the feeds publish). Ratings appear only when reviews are visible.
 */
export function productJsonLd(product: ProductPage, absolute: (p: string) => string, shopName: string) {
  const url = absolute(`/p/${product.slug}`);
  const data: Record<string, unknown> = {
    "@context": "https://schema.org",
    "@type": "Product",
    "@id": url,
    name: product.title,
    description: summarize(product.description, 5000),
    url,
    image: product.images.map((i) => absolute(mediaPath(i.storageKey, "square"))),
    sku: product.selected.sku,
    ...(product.brand ? { brand: { "@type": "Brand", name: product.brand } } : {}),
    offers: product.variants.map((v) => ({
      "@type": "Offer",
      sku: v.sku,
      ...(v.gtin ? { gtin: v.gtin } : {}),
      ...(v.mpn ? { mpn: v.mpn } : {}),
      url: `${url}?variant=${v.id}`,
      price: formatFeedPrice(v.offer.priceMinor, v.offer.currency).split(" ")[0],
      priceCurrency: v.offer.currency,
      availability: v.offer.availability === "in_stock" ? "https://schema.org/InStock" : "https://schema.org/OutOfStock",
      itemCondition: `https://schema.org/${product.condition === "new" ? "New" : product.condition === "used" ? "Used" : "Refurbished"}Condition`,
      seller: { "@type": "Organization", name: shopName },
    })),
  };
  if (product.rating && product.reviews.length > 0) {
    data.aggregateRating = { "@type": "AggregateRating", ratingValue: product.rating.average, reviewCount: product.rating.count, bestRating: 5, worstRating: 1 };
    data.review = product.reviews.map((r) => ({
      "@type": "Review",
      author: { "@type": "Person", name: r.displayName },
      datePublished: (r.publishedAt ?? r.createdAt).toISOString().slice(0, 10),
      reviewRating: { "@type": "Rating", ratingValue: r.rating, bestRating: 5, worstRating: 1 },
      ...(r.title ? { name: r.title } : {}),
      reviewBody: r.body,
    }));
  }
  return data;
}
