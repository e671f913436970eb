import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { ProductInputT } from "./catalog.schema.js";
import { slugify } from "./slug.js";

type Tx = Prisma.TransactionClient;

/**
 * Writes a whole product (fields, variants, images, translation, collections)
 * inside the caller's transaction: either everything is saved or nothing.
 * Variants are matched by id, then by SKU; variants left out are archived,
 * not deleted, because orders and tags may point at them.
 * Used by the admin form, the JSON API and CSV import.
 */
export async function saveProductInTx(tx: Tx, deps: Deps, input: ProductInputT, existingId?: string) {
  const currency = deps.shop.currency;
  input.variants.forEach((v, i) => {
    if (v.currency && v.currency !== currency) {
      throw AppError.validation(`variants.${i}.currency: this shop sells in ${currency}, not ${v.currency}.`, [{ field: `variants.${i}.currency`, message: `must be ${currency}` }]);
    }
  });

  const existing = existingId
    ? await tx.product.findUnique({ where: { id: existingId }, include: { variants: true } })
    : null;
  if (existingId && !existing) throw AppError.notFound("product");

  // SKUs are unique across the shop: name the product that already has one.
  const skus = input.variants.map((v) => v.sku);
  const taken = await tx.variant.findMany({ where: { sku: { in: skus }, productId: existingId ? { not: existingId } : undefined }, include: { product: { select: { title: true } } } });
  if (taken.length > 0) {
    throw AppError.conflict(
      taken.map((t) => `SKU ${t.sku} already belongs to "${t.product.title}".`).join(" "),
      taken.map((t) => ({ field: `variants.${input.variants.findIndex((v) => v.sku === t.sku)}.sku`, message: `already used by "${t.product.title}"` })),
    );
  }

  const slug = await resolveSlug(tx, input.slug, input.title, existing?.id);
  const data = {
    slug,
    title: input.title,
    description: input.description,
    brand: input.brand,
    condition: input.condition,
    googleCategory: input.googleCategory,
    identifierExists: input.identifierExists,
    gender: input.gender,
    ageGroup: input.ageGroup,
    color: input.color,
    size: input.size,
    status: input.status,
    optionNames: JSON.stringify(input.optionNames),
    archivedAt: input.status === "archived" ? (existing?.archivedAt ?? deps.now()) : null,
  };
  const product = existing ? await tx.product.update({ where: { id: existing.id }, data }) : await tx.product.create({ data });

  const keptIds = new Set<string>();
  for (const [position, v] of input.variants.entries()) {
    const match = existing?.variants.find((e) => (v.id ? e.id === v.id : e.sku.toUpperCase() === v.sku.toUpperCase()));
    if (v.id && !match) throw AppError.validation(`variants.${position}.id: no variant ${v.id} in this product.`, [{ field: `variants.${position}.id`, message: "unknown variant" }]);
    const fields = {
      sku: v.sku,
      option1: v.option1,
      option2: v.option2,
      option3: v.option3,
      priceMinor: v.priceMinor,
      compareAtMinor: v.compareAtMinor,
      currency,
      stock: v.stock,
      gtin: v.gtin,
      mpn: v.mpn,
      weightGrams: v.weightGrams,
      position,
      archivedAt: null,
    };
    const row = match ? await tx.variant.update({ where: { id: match.id }, data: fields }) : await tx.variant.create({ data: { ...fields, productId: product.id } });
    keptIds.add(row.id);
  }
  if (existing) {
    await tx.variant.updateMany({
      where: { productId: product.id, id: { notIn: [...keptIds] }, archivedAt: null },
      data: { archivedAt: deps.now() },
    });
  }

  if (input.images) {
    const mediaIds = [...new Set(input.images.map((i) => i.mediaId))];
    const found = await tx.media.count({ where: { id: { in: mediaIds } } });
    if (found !== mediaIds.length) throw AppError.validation("images: an image was not found; upload it again.", [{ field: "images", message: "unknown image" }]);
    const variants = await tx.variant.findMany({ where: { productId: product.id, archivedAt: null }, select: { id: true, sku: true } });
    await tx.productImage.deleteMany({ where: { productId: product.id } });
    for (const [position, image] of input.images.entries()) {
      const variantId = image.variantSku ? variants.find((v) => v.sku.toUpperCase() === image.variantSku!.toUpperCase())?.id : null;
      if (image.variantSku && !variantId) {
        throw AppError.validation(`images.${position}.variantSku: no variant with SKU ${image.variantSku}.`, [{ field: `images.${position}.variantSku`, message: "unknown SKU" }]);
      }
      await tx.productImage.create({ data: { productId: product.id, mediaId: image.mediaId, alt: image.alt, position, variantId: variantId ?? null } });
    }
  }

  const fa = input.translations.fa;
  if (fa?.title) {
    await tx.productTranslation.upsert({
      where: { productId_locale: { productId: product.id, locale: "fa" } },
      create: { productId: product.id, locale: "fa", title: fa.title, description: fa.description },
      update: { title: fa.title, description: fa.description },
    });
  } else if (fa) {
    await tx.productTranslation.deleteMany({ where: { productId: product.id, locale: "fa" } });
  }

  const collections = await tx.collection.findMany({ where: { slug: { in: input.collections } } });
  const missing = input.collections.filter((s) => !collections.some((c) => c.slug === s));
  if (missing.length) throw AppError.validation(`collections: no collection named ${missing.join(", ")}.`, [{ field: "collections", message: `unknown: ${missing.join(", ")}` }]);
  await tx.collectionProduct.deleteMany({ where: { productId: product.id, collectionId: { notIn: collections.map((c) => c.id) } } });
  for (const c of collections) {
    await tx.collectionProduct.upsert({ where: { collectionId_productId: { collectionId: c.id, productId: product.id } }, create: { collectionId: c.id, productId: product.id }, update: {} });
  }
  return product;
}

async function resolveSlug(tx: Tx, wanted: string | undefined, title: string, ownId?: string) {
  if (wanted) {
    const other = await tx.product.findUnique({ where: { slug: wanted } });
    if (other && other.id !== ownId) throw AppError.conflict(`The slug "${wanted}" is already used by "${other.title}".`, [{ field: "slug", message: "already used" }]);
    return wanted;
  }
  if (ownId) {
    const own = await tx.product.findUniqueOrThrow({ where: { id: ownId } });
    return own.slug;
  }
  const base = slugify(title);
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if (!(await tx.product.findUnique({ where: { slug: candidate } }))) return candidate;
  }
}

export async function createProduct(deps: Deps, input: { product: ProductInputT; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const product = await saveProductInTx(tx, deps, input.product);
    await recordAudit(tx, { actor: input.actor, action: "product.create", entityType: "product", entityId: product.id, details: { title: product.title } });
    return product;
  });
}

export async function updateProduct(deps: Deps, input: { id: string; product: ProductInputT; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const product = await saveProductInTx(tx, deps, input.product, input.id);
    await recordAudit(tx, { actor: input.actor, action: "product.update", entityType: "product", entityId: product.id, details: { title: product.title } });
    return product;
  });
}

/** Archiving hides a product from the shop, feeds and post tags; it keeps its history. */
export async function setProductStatus(deps: Deps, input: { id: string; status: "active" | "draft" | "archived"; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const found = await tx.product.findUnique({ where: { id: input.id } });
    if (!found) throw AppError.notFound("product");
    const product = await tx.product.update({
      where: { id: input.id },
      data: { status: input.status, archivedAt: input.status === "archived" ? deps.now() : null },
    });
    await recordAudit(tx, { actor: input.actor, action: `product.${input.status === "archived" ? "archive" : "status"}`, entityType: "product", entityId: product.id, details: { from: found.status, to: input.status } });
    return product;
  });
}

/**
 * Quick inventory/price change for one variant (stock sync from another
 * system). A relative change is a conditional update, so two concurrent
 * decrements can never take stock below zero.
 */
export async function patchVariant(
  deps: Deps,
  input: { id: string; patch: { priceMinor?: number; compareAtMinor?: number | null; stock?: number; stockDelta?: number }; actor: Actor },
) {
  return deps.db.$transaction(async (tx) => {
    const variant = await tx.variant.findUnique({ where: { id: input.id } });
    if (!variant || variant.archivedAt) throw AppError.notFound("variant");
    const { priceMinor, compareAtMinor, stock, stockDelta } = input.patch;
    const price = priceMinor ?? variant.priceMinor;
    const compareAt = compareAtMinor === undefined ? variant.compareAtMinor : compareAtMinor;
    if (compareAt !== null && compareAt <= price) {
      throw AppError.validation("compareAtMinor: must be higher than the price, or null.", [{ field: "compareAtMinor", message: "not above the price" }]);
    }
    if (stockDelta !== undefined && stockDelta !== 0) {
      const changed = await tx.variant.updateMany({
        where: { id: variant.id, ...(stockDelta < 0 ? { stock: { gte: -stockDelta } } : {}) },
        data: { stock: { increment: stockDelta } },
      });
      if (changed.count === 0) throw AppError.conflict(`stockDelta: only ${variant.stock} in stock; cannot remove ${-stockDelta}.`, [{ field: "stockDelta", message: "would go below zero" }]);
    }
    const updated = await tx.variant.update({
      where: { id: variant.id },
      data: { priceMinor: price, compareAtMinor: compareAt, ...(stock !== undefined ? { stock } : {}) },
    });
    await recordAudit(tx, { actor: input.actor, action: "variant.update", entityType: "variant", entityId: variant.id, details: input.patch });
    return updated;
  });
}
