import type { Deps } from "../deps.js";
import { getProductReviewsBlock } from "../reviews/reviews.service.js";
import { containsText, dialectOf } from "../db/dialect.js";
import { readProductPageRow } from "./catalog.queries.js";
import type { Locale } from "../i18n/translate.js";
import { offerFor, type Offer } from "./offer.js";

/** Units held by unexpired active holds, per variant. */
export async function getHeldQuantities(deps: Deps, variantIds: string[]): Promise<Map<string, number>> {
  if (variantIds.length === 0) return new Map();
  const rows = await deps.db.stockHold.groupBy({
    by: ["variantId"],
    where: { variantId: { in: variantIds }, status: "active", expiresAt: { gt: deps.now() } },
    _sum: { quantity: true },
  });
  return new Map(rows.map((r) => [r.variantId, r._sum.quantity ?? 0]));
}

/** "Size / Colour" option values of a variant as one label ("M / Indigo"). */
export function variantLabel(v: { option1: string | null; option2: string | null; option3: string | null }): string {
  return [v.option1, v.option2, v.option3].filter((o): o is string => !!o).join(" / ");
}

function localized<T extends { title: string; description: string; translations?: { title: string; description: string }[] }>(p: T) {
  const tr = p.translations?.[0];
  return { title: tr?.title || p.title, description: tr?.description || p.description };
}

/** Product cards for the storefront grid: cheapest offer, sold-out state, first image. */
export async function listStorefrontProducts(deps: Deps, input: { locale: Locale; limit?: number; cursor?: string }) {
  const limit = input.limit ?? 48;
  const products = await deps.db.product.findMany({
    where: { status: "active" },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    include: {
      variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }] },
      images: { orderBy: [{ position: "asc" }, { id: "asc" }], take: 1, include: { media: true } },
      translations: { where: { locale: input.locale } },
      ratingSummary: true,
    },
  });
  const page = products.slice(0, limit);
  const held = await getHeldQuantities(deps, page.flatMap((p) => p.variants.map((v) => v.id)));
  const items = page
    .filter((p) => p.variants.length > 0)
    .map((p) => {
      const offers = p.variants.map((v) => offerFor(v, held.get(v.id)));
      const cheapest = offers.reduce((a, b) => (b.priceMinor < a.priceMinor ? b : a));
      const image = p.images[0];
      return {
        id: p.id,
        slug: p.slug,
        ...localized(p),
        priceMinor: cheapest.priceMinor,
        compareAtMinor: cheapest.compareAtMinor,
        currency: cheapest.currency,
        priceVaries: new Set(offers.map((o) => o.priceMinor)).size > 1,
        soldOut: offers.every((o) => o.availability === "out_of_stock"),
        image: image ? { storageKey: image.media.storageKey, alt: image.alt || image.media.alt, width: image.media.width, height: image.media.height } : null,
        rating: ratingOf(p.ratingSummary),
      };
    });
  return { items, nextCursor: products.length > limit ? page[page.length - 1]?.id : undefined };
}

function ratingOf(summary: { count: number; sum: number } | null) {
  if (!summary || summary.count === 0) return null;
  return { count: summary.count, average: Math.round((summary.sum / summary.count) * 10) / 10 };
}

/** Everything the product page shows, with one offer per variant. */
export async function getProductPage(deps: Deps, input: { slug: string; locale: Locale; variantId?: string; reviewsQuery?: unknown }) {
  // One statement (see catalog.queries.ts): held units come with each variant,
  // counted exactly as getHeldQuantities counts them.
  const row = await readProductPageRow(deps.db, { slug: input.slug, locale: input.locale, now: deps.now() });
  if (!row || row.status !== "active" || row.variants.length === 0) return null;
  const product = { ...row, translations: row.translation ? [row.translation] : [] };
  const variants = product.variants.map((v) => ({
    id: v.id,
    sku: v.sku,
    label: variantLabel(v) || v.sku,
    gtin: v.gtin,
    mpn: v.mpn,
    offer: offerFor(v, v.held),
  }));
  // The selected variant: the one asked for, else the first one in stock, else the first.
  const selected =
    variants.find((v) => v.id === input.variantId) ?? variants.find((v) => v.offer.availability === "in_stock") ?? variants[0]!;
  const variantImage = product.images.findIndex((i) => i.variantId === selected.id);
  const images = product.images.map((i) => ({
    id: i.id,
    storageKey: i.storageKey,
    alt: i.alt || i.mediaAlt,
    width: i.width,
    height: i.height,
    variantId: i.variantId,
  }));
  if (variantImage > 0) images.unshift(...images.splice(variantImage, 1));
  // Reviews, questions and signals (src/reviews); its page of reviews is also what the JSON-LD lists.
  const social = await getProductReviewsBlock(deps, { productId: product.id, summary: product.ratingSummary, query: input.reviewsQuery });
  return {
    id: product.id,
    slug: product.slug,
    ...localized(product),
    brand: product.brand,
    condition: product.condition,
    optionNames: JSON.parse(product.optionNames) as string[],
    variants,
    selected,
    images,
    rating: ratingOf(product.ratingSummary),
    social,
    reviews: social.reviews,
    updatedAt: product.updatedAt,
  };
}

export type ProductPage = NonNullable<Awaited<ReturnType<typeof getProductPage>>>;

/** Admin/API listing with search by title, SKU or slug. */
export async function listProducts(
  deps: Deps,
  input: { q?: string; status?: string; limit: number; cursor?: string; includeAllStatuses?: boolean },
) {
  const q = input.q?.trim();
  const like = q ? containsText(dialectOf(deps.db), q) : null;
  const rows = await deps.db.product.findMany({
    where: {
      ...(input.status ? { status: input.status } : input.includeAllStatuses ? {} : { status: "active" }),
      ...(like ? { OR: [{ title: like }, { slug: like }, { variants: { some: { sku: like } } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    include: { variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }] } },
  });
  const page = rows.slice(0, input.limit);
  const held = await getHeldQuantities(deps, page.flatMap((p) => p.variants.map((v) => v.id)));
  return {
    items: page.map((p) => toApiProduct(p, held)),
    nextCursor: rows.length > input.limit ? page[page.length - 1]?.id : undefined,
  };
}

export async function getProductDetail(deps: Deps, input: { id: string }) {
  const p = await deps.db.product.findUnique({
    where: { id: input.id },
    include: {
      variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }] },
      images: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: true } },
      translations: true,
    },
  });
  if (!p) return null;
  const held = await getHeldQuantities(deps, p.variants.map((v) => v.id));
  return {
    ...toApiProduct(p, held),
    images: p.images.map((i) => ({ id: i.id, storageKey: i.media.storageKey, alt: i.alt || i.media.alt, width: i.media.width, height: i.media.height, variantId: i.variantId })),
    translations: p.translations.map((t) => ({ locale: t.locale, title: t.title, description: t.description })),
  };
}

type ProductRow = {
  id: string; slug: string; title: string; description: string; brand: string; condition: string; googleCategory: string;
  identifierExists: boolean; gender: string; ageGroup: string; color: string; size: string; status: string; optionNames: string; createdAt: Date; updatedAt: Date;
  variants: { id: string; sku: string; option1: string | null; option2: string | null; option3: string | null; priceMinor: number; compareAtMinor: number | null; currency: string; stock: number; gtin: string | null; mpn: string | null }[];
};

/** A product's own fields, with its option names parsed: what the API and the edit form both show. */
function productFields(p: Omit<ProductRow, "variants">) {
  return {
    id: p.id,
    slug: p.slug,
    title: p.title,
    description: p.description,
    brand: p.brand,
    condition: p.condition,
    googleCategory: p.googleCategory,
    identifierExists: p.identifierExists,
    gender: p.gender,
    ageGroup: p.ageGroup,
    color: p.color,
    size: p.size,
    status: p.status,
    optionNames: JSON.parse(p.optionNames) as string[],
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

function toApiProduct(p: ProductRow, held: Map<string, number>) {
  return {
    ...productFields(p),
    variants: p.variants.map((v) => {
      const offer: Offer = offerFor(v, held.get(v.id));
      return {
        id: v.id, sku: v.sku, option1: v.option1, option2: v.option2, option3: v.option3,
        priceMinor: v.priceMinor, compareAtMinor: v.compareAtMinor, currency: v.currency, stock: v.stock,
        gtin: v.gtin, mpn: v.mpn, available: offer.available, availability: offer.availability,
      };
    }),
  };
}

/** Everything the admin edit form shows for one product. */
export async function getProductForEditing(deps: Deps, input: { id: string }) {
  const p = await deps.db.product.findUnique({
    where: { id: input.id },
    include: {
      variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }] },
      images: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: true, variant: { select: { sku: true } } } },
      translations: true,
      collections: { include: { collection: { select: { slug: true } } }, orderBy: [{ collection: { position: "asc" } }, { collectionId: "asc" }] },
    },
  });
  if (!p) return null;
  return {
    ...productFields(p),
    translations: p.translations,
    collections: p.collections.map((c) => c.collection.slug),
    images: p.images.map((i) => ({ mediaId: i.mediaId, storageKey: i.media.storageKey, alt: i.alt, variantSku: i.variant?.sku ?? null })),
    variants: p.variants,
  };
}

/** Admin product table: one row per product with stock and price range. */
export async function listProductsForAdmin(deps: Deps, input: { q?: string; status?: string; cursor?: string; limit: number }) {
  const { items, nextCursor } = await listProducts(deps, { ...input, includeAllStatuses: true });
  const thumbs = await deps.db.productImage.findMany({
    where: { productId: { in: items.map((p) => p.id) }, position: 0 },
    include: { media: { select: { storageKey: true } } },
  });
  const statusCounts = await deps.db.product.groupBy({ by: ["status"], _count: { _all: true } });
  return {
    items: items.map((p) => {
      const prices = p.variants.map((v) => v.priceMinor);
      return {
        ...p,
        thumb: thumbs.find((t) => t.productId === p.id)?.media.storageKey ?? null,
        stock: p.variants.reduce((n, v) => n + v.stock, 0),
        available: p.variants.reduce((n, v) => n + v.available, 0),
        minPrice: prices.length ? Math.min(...prices) : 0,
        maxPrice: prices.length ? Math.max(...prices) : 0,
        currency: p.variants[0]?.currency ?? deps.shop.currency,
      };
    }),
    nextCursor,
    counts: Object.fromEntries(statusCounts.map((s) => [s.status, s._count._all])) as Record<string, number>,
  };
}
