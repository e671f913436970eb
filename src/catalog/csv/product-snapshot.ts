import type { Prisma } from "../../db/client.js";
import type { ProductInputT } from "../catalog.schema.js";
import type { ImageRef } from "./csv-cells.js";

/** What a product row needs loaded to be exported or compared with an import. */
export const SNAPSHOT_INCLUDE = {
  variants: { orderBy: [{ position: "asc" }, { id: "asc" }] },
  images: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: { select: { storageKey: true } }, variant: { select: { sku: true, archivedAt: true } } } },
  translations: { where: { locale: "fa" } },
  collections: { include: { collection: { select: { slug: true } } }, orderBy: [{ collection: { position: "asc" } }, { collectionId: "asc" }] },
} satisfies Prisma.ProductInclude;

export type SnapshotRow = Prisma.ProductGetPayload<{ include: typeof SNAPSHOT_INCLUDE }>;

export interface VariantSnapshot {
  id: string;
  sku: string;
  option1: string | null;
  option2: string | null;
  option3: string | null;
  priceMinor: number;
  compareAtMinor: number | null;
  currency: string;
  stock: number;
  gtin: string | null;
  mpn: string | null;
  weightGrams: number | null;
}

/**
 * A product as the CSV sees it: the same shape whether it comes from the
 * database or from a file, so "would this import change anything?" is a
 * plain comparison, and the export writes exactly what the import compares.
 */
export interface ProductSnapshot {
  id: string;
  slug: string;
  title: string;
  description: string;
  brand: string;
  condition: string;
  googleCategory: string;
  identifierExists: boolean;
  gender: string;
  ageGroup: string;
  color: string;
  size: string;
  status: string;
  optionNames: string[];
  fa: { title: string; description: string } | null;
  collections: string[];
  images: (ImageRef & { mediaId: string })[];
  /** Active variants in shop order. */
  variants: VariantSnapshot[];
  /** Archived variants; an import that lists one of their SKUs brings it back. */
  archivedVariants: VariantSnapshot[];
}

export function snapshotOf(p: SnapshotRow): ProductSnapshot {
  const variant = (v: SnapshotRow["variants"][number]): VariantSnapshot => ({
    id: v.id,
    sku: v.sku,
    option1: v.option1,
    option2: v.option2,
    option3: v.option3,
    priceMinor: v.priceMinor,
    compareAtMinor: v.compareAtMinor,
    currency: v.currency,
    stock: v.stock,
    gtin: v.gtin,
    mpn: v.mpn,
    weightGrams: v.weightGrams,
  });
  const fa = p.translations.find((t) => t.locale === "fa");
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
    fa: fa ? { title: fa.title, description: fa.description } : null,
    collections: p.collections.map((c) => c.collection.slug).sort(),
    // An image tied to an archived variant shows for no one; the link is not
    // part of the product as the shop presents it, so it is not exported.
    images: p.images.map((i) => ({ storageKey: i.media.storageKey, mediaId: i.mediaId, alt: i.alt, sku: i.variant && !i.variant.archivedAt ? i.variant.sku : null })),
    variants: p.variants.filter((v) => !v.archivedAt).map(variant),
    archivedVariants: p.variants.filter((v) => v.archivedAt).map(variant),
  };
}

/** The comparable part of a product: what saveProductInTx would write. */
function comparable(s: {
  title: string; description: string; brand: string; condition: string; googleCategory: string; identifierExists: boolean; status: string;
  gender: string; ageGroup: string; color: string; size: string;
  optionNames: string[]; fa: { title: string; description: string } | null; collections: string[];
  images: { mediaId: string; alt: string; sku: string | null }[]; variants: Omit<VariantSnapshot, "id" | "currency">[];
}) {
  return JSON.stringify([
    s.title, s.description, s.brand, s.condition, s.googleCategory, s.identifierExists, s.status, s.optionNames, s.fa, s.gender, s.ageGroup, s.color, s.size,
    [...new Set(s.collections)].sort(),
    s.images.map((i) => [i.mediaId, i.alt, i.sku?.toUpperCase() ?? null]),
    s.variants.map((v) => [v.sku, v.option1, v.option2, v.option3, v.priceMinor, v.compareAtMinor, v.stock, v.gtin, v.mpn, v.weightGrams]),
  ]);
}

/**
 * True when saving `input` over `existing` would change nothing a shopper,
 * a feed or the admin can see. Left-out images or translation (undefined)
 * mean "keep", as in saveProductInTx.
 */
export function isUnchanged(existing: ProductSnapshot, input: ProductInputT): boolean {
  const fa = input.translations.fa === undefined ? existing.fa : input.translations.fa.title ? { title: input.translations.fa.title, description: input.translations.fa.description } : null;
  const images = input.images === undefined ? existing.images : input.images.map((i) => ({ mediaId: i.mediaId, alt: i.alt, sku: i.variantSku ?? null }));
  return (
    comparable(existing) ===
    comparable({
      ...input,
      fa,
      images,
      variants: input.variants.map((v) => ({ sku: v.sku, option1: v.option1, option2: v.option2, option3: v.option3, priceMinor: v.priceMinor, compareAtMinor: v.compareAtMinor, stock: v.stock, gtin: v.gtin, mpn: v.mpn, weightGrams: v.weightGrams })),
    })
  );
}

/** How the variants of `existing` would change: new SKUs, changed or revived ones, and those left out (archived). */
export function variantChanges(existing: ProductSnapshot | null, input: ProductInputT) {
  if (!existing) return { create: input.variants.length, update: 0, archive: 0 };
  let create = 0;
  let update = 0;
  const kept = new Set<string>();
  input.variants.forEach((v, position) => {
    const key = v.sku.toUpperCase();
    const activeIndex = existing.variants.findIndex((e) => e.sku.toUpperCase() === key);
    if (activeIndex >= 0) {
      kept.add(key);
      const e = existing.variants[activeIndex]!;
      const same =
        e.sku === v.sku && e.option1 === v.option1 && e.option2 === v.option2 && e.option3 === v.option3 && e.priceMinor === v.priceMinor &&
        e.compareAtMinor === v.compareAtMinor && e.stock === v.stock && e.gtin === v.gtin && e.mpn === v.mpn && e.weightGrams === v.weightGrams;
      if (!same || activeIndex !== position) update++;
    } else if (existing.archivedVariants.some((e) => e.sku.toUpperCase() === key)) update++;
    else create++;
  });
  const archive = existing.variants.filter((e) => !kept.has(e.sku.toUpperCase())).length;
  return { create, update, archive };
}
