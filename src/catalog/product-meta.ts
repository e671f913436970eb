import { formatFeedPrice } from "../i18n/format.js";
import { mediaPath } from "../media/media.paths.js";
import type { Locale } from "../i18n/translate.js";
import { shippingLabel, type ShippingOption } from "../payments/gateway.js";
import type { ShopProfile } from "../shop/shop.schema.js";
import type { ProductPage } from "./catalog.service.js";

/** Plain text for meta tags: no markup, collapsed whitespace, cut at a word. */
export function summarize(text: string, max = 200): string {
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  if (plain.length <= max) return plain;
  const cut = plain.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max / 2))}…`;
}

export interface ProductJsonLdContext {
  /** This page's own URL, in its language (see pageUrls): the JSON-LD's @id and url. */
  pageUrl: string;
  absolute: (p: string) => string;
  shopName: string;
  /** The shop's shipping options and the countries they apply to (Admin → Shop settings). */
  shipping: { options: ShippingOption[]; countries: readonly string[]; locale: Locale; currency: string };
  /** Admin → Shop settings → Return policy; null when the shop states none. */
  returns: ShopProfile["returns"];
}

const amount = (minor: number, currency: string) => formatFeedPrice(minor, currency).split(" ")[0]!;

/**
 * schema.org Product with one Offer per variant, from the same offers the page
 * shows (and the feeds publish). Google's merchant-listing markup: a sale
 * carries the regular price as a StrikethroughPrice; each offer says what
 * shipping costs where (shippingDetails) and how returns work
 * (hasMerchantReturnPolicy). Ratings appear only when reviews are visible.
 */
export function productJsonLd(product: ProductPage, ctx: ProductJsonLdContext) {
  const { pageUrl, absolute } = ctx;
  // Offer links keep the page's language: ?lang=fa&variant=… on a Persian page.
  const variantUrl = (id: string) => `${pageUrl}${pageUrl.includes("?") ? "&" : "?"}variant=${encodeURIComponent(id)}`;
  const shippingDetails = shippingJsonLd(ctx.shipping);
  const returnPolicy = returnPolicyJsonLd(ctx.returns, ctx.shipping.currency);
  const data: Record<string, unknown> = {
    "@context": "https://schema.org",
    "@type": "Product",
    "@id": `${pageUrl}#product`,
    name: product.title,
    description: summarize(product.description, 5000),
    url: pageUrl,
    image: product.images.map((i) => absolute(mediaPath(i.storageKey, "square"))),
    sku: product.selected.sku,
    ...(product.brand ? { brand: { "@type": "Brand", name: product.brand } } : {}),
    offers: product.variants.map((v) => ({
      "@type": "Offer",
      sku: v.sku,
      ...(v.gtin ? { gtin: v.gtin } : {}),
      ...(v.mpn ? { mpn: v.mpn } : {}),
      url: variantUrl(v.id),
      price: amount(v.offer.priceMinor, v.offer.currency),
      priceCurrency: v.offer.currency,
      ...(v.offer.compareAtMinor !== null
        ? {
            priceSpecification: {
              "@type": "UnitPriceSpecification",
              priceType: "https://schema.org/StrikethroughPrice",
              price: amount(v.offer.compareAtMinor, v.offer.currency),
              priceCurrency: v.offer.currency,
            },
          }
        : {}),
      availability: v.offer.availability === "in_stock" ? "https://schema.org/InStock" : "https://schema.org/OutOfStock",
      itemCondition: `https://schema.org/${product.condition === "new" ? "New" : product.condition === "used" ? "Used" : "Refurbished"}Condition`,
      ...(shippingDetails.length ? { shippingDetails } : {}),
      ...(returnPolicy ? { hasMerchantReturnPolicy: returnPolicy } : {}),
      seller: { "@type": "Organization", name: ctx.shopName },
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

/** One OfferShippingDetails per shipping option, to every country the shop sells to. */
export function shippingJsonLd(shipping: ProductJsonLdContext["shipping"]) {
  if (shipping.countries.length === 0) return [];
  const destination = shipping.countries.map((c) => ({ "@type": "DefinedRegion", addressCountry: c }));
  return shipping.options.map((o) => ({
    "@type": "OfferShippingDetails",
    shippingLabel: shippingLabel(o, shipping.locale),
    shippingRate: { "@type": "MonetaryAmount", value: amount(o.amountMinor, shipping.currency), currency: shipping.currency },
    shippingDestination: destination,
  }));
}

/** schema.org MerchantReturnPolicy from the shop's setting; null when none is set. */
export function returnPolicyJsonLd(returns: ProductJsonLdContext["returns"], currency: string) {
  if (!returns) return null;
  if (returns.days === 0) {
    return { "@type": "MerchantReturnPolicy", applicableCountry: returns.country, returnPolicyCategory: "https://schema.org/MerchantReturnNotPermitted" };
  }
  return {
    "@type": "MerchantReturnPolicy",
    applicableCountry: returns.country,
    returnPolicyCategory: "https://schema.org/MerchantReturnFiniteReturnWindow",
    merchantReturnDays: returns.days,
    returnMethod: "https://schema.org/ReturnByMail",
    ...(returns.fee === "free"
      ? { returnFees: "https://schema.org/FreeReturn" }
      : returns.fee === "customer"
        ? { returnFees: "https://schema.org/ReturnFeesCustomerResponsibility" }
        : {
            returnFees: "https://schema.org/ReturnShippingFees",
            returnShippingFeesAmount: { "@type": "MonetaryAmount", value: amount(returns.feeMinor ?? 0, currency), currency },
          }),
  };
}
