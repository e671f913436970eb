import type { Prisma } from "../../db/client.js";
import type { Deps } from "../../deps.js";
import { SNAPSHOT_INCLUDE, type SnapshotRow } from "./product-snapshot.js";

type Tx = Prisma.TransactionClient;
type Row = Record<string, unknown>;

/**
 * The undo journal of an import: a product's rows (the product, its
 * variants, images, Persian translation and collection memberships: every
 * row saveProductInTx may write) as plain JSON, dates kept as dates. Taken
 * before the import writes a product and again right after, in the same
 * transaction; a roll-back restores the first when the product still looks
 * like the second.
 */
export interface ProductRows {
  product: Row;
  variants: Row[];
  images: Row[];
  translations: Row[];
  memberships: Row[];
}

export function rowsOf(p: SnapshotRow): ProductRows {
  const { variants, images, translations, collections, ...product } = p;
  return {
    product,
    variants: variants.map((v) => ({ ...v })),
    images: images.map(({ media: _m, variant: _v, ...image }) => image),
    translations: translations.map((t) => ({ ...t })),
    memberships: collections.map(({ collection: _c, ...m }) => m),
  };
}

export async function loadProductRows(tx: Tx, productId: string): Promise<ProductRows | null> {
  return (await loadProductsRows(tx, [productId])).get(productId) ?? null;
}

/** Several products' rows in one go (one query per relation, not per product). */
export async function loadProductsRows(tx: Tx, productIds: string[]): Promise<Map<string, ProductRows>> {
  if (productIds.length === 0) return new Map();
  const rows = await tx.product.findMany({ where: { id: { in: productIds } }, include: SNAPSHOT_INCLUDE, orderBy: { id: "asc" } });
  return new Map(rows.map((r) => [r.id, rowsOf(r)]));
}

/** JSON with dates tagged, so they come back as dates (ISO strings would not). */
export function encodeRows(rows: ProductRows): string {
  return JSON.stringify(rows, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.toISOString() } : value;
  });
}

export function decodeRows(json: string): ProductRows {
  return JSON.parse(json, (_key, value) => (value && typeof value === "object" && typeof (value as { $date?: unknown }).$date === "string" ? new Date((value as { $date: string }).$date) : value)) as ProductRows;
}

/**
 * What a person or another writer could have changed: everything but the
 * timestamps and the stock counters (a sale during the import is not an
 * edit of the product; it is carried through a roll-back instead).
 */
function comparable(rows: ProductRows): string {
  const omit = (r: Row, keys: string[]) => Object.fromEntries(Object.entries(r).filter(([k]) => !keys.includes(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const byId = (a: Row, b: Row) => String(a.id ?? `${a.collectionId}/${a.locale}`).localeCompare(String(b.id ?? `${b.collectionId}/${b.locale}`));
  return JSON.stringify({
    product: omit(rows.product, ["updatedAt"]),
    variants: [...rows.variants].sort(byId).map((v) => omit(v, ["updatedAt", "stock", "reserved"])),
    images: [...rows.images].sort(byId).map((i) => omit(i, [])),
    translations: [...rows.translations].sort(byId).map((t) => omit(t, [])),
    memberships: [...rows.memberships].sort(byId).map((m) => omit(m, [])),
  });
}

export function sameProduct(a: ProductRows, b: ProductRows): boolean {
  return comparable(a) === comparable(b);
}

/**
 * Puts a product back as `before`, given that it is still as the import left
 * it (`after`) apart from stock. Stock moves by what was sold or restocked
 * since the import wrote it (before + now − after, never below 0), so a sale
 * made during the import stays sold. A variant the import added is deleted,
 * or archived when an order, hold or cart already points at it. Timestamps
 * are restored too: after a roll-back the rows are the rows from before.
 */
export async function restoreProduct(tx: Tx, deps: Pick<Deps, "now">, input: { before: ProductRows; after: ProductRows; current: ProductRows }) {
  const { before, after, current } = input;
  const productId = String(before.product.id);
  const beforeIds = new Set(before.variants.map((v) => String(v.id)));

  for (const added of current.variants.filter((v) => !beforeIds.has(String(v.id)))) {
    const id = String(added.id);
    // Anything a shopper or the owner attached to it meanwhile keeps it (deleting would cascade to claims and carts).
    const where = { variantId: id };
    const counts = await Promise.all([tx.orderLine.count({ where }), tx.stockHold.count({ where }), tx.cartItem.count({ where }), tx.liveClaim.count({ where }), tx.postTag.count({ where }), tx.review.count({ where })]);
    const used = counts.reduce((a, b) => a + b, 0);
    if (used > 0) await tx.variant.update({ where: { id }, data: { archivedAt: deps.now() } });
    else await tx.variant.delete({ where: { id } });
  }

  for (const v of before.variants) {
    const id = String(v.id);
    const now = current.variants.find((c) => c.id === v.id);
    const written = after.variants.find((a) => a.id === v.id);
    if (!now) continue;
    const stock = written ? Math.max(0, Number(v.stock) + Number(now.stock) - Number(written.stock)) : Number(now.stock);
    const { id: _id, productId: _p, stock: _s, reserved: _r, ...fields } = v;
    await tx.variant.update({ where: { id }, data: { ...(fields as Prisma.VariantUncheckedUpdateInput), stock } });
  }

  await tx.productImage.deleteMany({ where: { productId } });
  if (before.images.length) await tx.productImage.createMany({ data: before.images as Prisma.ProductImageCreateManyInput[] });
  const locales = [...new Set([...before.translations, ...current.translations].map((t) => String(t.locale)))];
  if (locales.length) await tx.productTranslation.deleteMany({ where: { productId, locale: { in: locales } } });
  if (before.translations.length) await tx.productTranslation.createMany({ data: before.translations as Prisma.ProductTranslationCreateManyInput[] });
  await tx.collectionProduct.deleteMany({ where: { productId } });
  if (before.memberships.length) await tx.collectionProduct.createMany({ data: before.memberships as Prisma.CollectionProductCreateManyInput[] });

  // Last: nothing above touches the product row, so its updatedAt stays as restored.
  const { id: _id, ...fields } = before.product;
  await tx.product.update({ where: { id: productId }, data: fields as Prisma.ProductUncheckedUpdateInput });
}
