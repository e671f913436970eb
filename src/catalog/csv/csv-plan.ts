import type { Prisma } from "../../db/client.js";
import { ProductInput, type ProductInputT } from "../catalog.schema.js";
import type { ColumnMap, ParsedProduct } from "./csv-rows.js";
import type { CsvProblem, ImportProductPlan } from "./csv.schema.js";
import { isUnchanged, SNAPSHOT_INCLUDE, snapshotOf, variantChanges, type ProductSnapshot, type SnapshotRow } from "./product-snapshot.js";

type Reader = Pick<Prisma.TransactionClient, "product" | "variant" | "media">;

/** Keys per `IN (…)` query, well under SQLite's bound-parameter limit. */
const IN_CHUNK = 500;

/** One product of a file, checked and decided: what saveProductInTx would be given, and what it would do. */
export interface PlannedProduct {
  parsed: ParsedProduct;
  input: ProductInputT;
  /** The product as it is now (all its rows), or null when the import creates it. */
  existing: SnapshotRow | null;
  plan: ImportProductPlan;
}

export interface ProductsPlan {
  items: PlannedProduct[];
  problems: CsvProblem[];
  warnings: CsvProblem[];
  /** Collection slugs the planned products name. */
  collections: string[];
}

/**
 * Checks products of a file against the catalog (through ProductInput, the
 * one schema for a product, plus what only the database knows) and decides,
 * per product, create, update or leave unchanged. Works on any set of whole
 * products: the import plans a file chunk by chunk, and plans each chunk
 * again inside the transaction that writes it. `breathe` is awaited between
 * queries and products (outside a transaction it lets requests in).
 */
export async function planProducts(db: Reader, cols: ColumnMap, products: ParsedProduct[], breathe: () => Promise<void> = async () => {}): Promise<ProductsPlan> {
  const problems: CsvProblem[] = [];
  const warnings: CsvProblem[] = [];
  const skuColumn = cols.variant.sku ?? cols.handle;

  const handles = products.map((p) => p.handle);
  const skus = products.flatMap((p) => p.variants.map((v) => v.sku)).filter(Boolean);
  // Prisma runs every relation query of an include even when no row
  // matched, so the relations are loaded only for products that exist (a
  // chunk of new products costs one query here, not eight).
  const found = await inChunks(handles, (slugs) => db.product.findMany({ where: { slug: { in: slugs } }, select: { id: true }, orderBy: { id: "asc" } }));
  const existingRows = found.length ? await inChunks(found.map((f) => f.id), (ids) => db.product.findMany({ where: { id: { in: ids } }, include: SNAPSHOT_INCLUDE, orderBy: { id: "asc" } })) : [];
  const existing = new Map(existingRows.map((r) => [r.slug, r]));
  await breathe();
  const skuRows = await inChunks(skus, (chunk) => db.variant.findMany({ where: { sku: { in: chunk } }, select: { sku: true, archivedAt: true, productId: true }, orderBy: { id: "asc" } }));
  const ownerProducts = new Map(
    (skuRows.length ? await inChunks([...new Set(skuRows.map((v) => v.productId))], (ids) => db.product.findMany({ where: { id: { in: ids } }, select: { id: true, slug: true, title: true }, orderBy: { id: "asc" } })) : []).map((p) => [p.id, p]),
  );
  const owners = new Map(skuRows.map((v) => [v.sku, { sku: v.sku, archivedAt: v.archivedAt, product: ownerProducts.get(v.productId)! }]));
  await breathe();
  const keys = [...new Set(products.flatMap((p) => p.given.images?.map((i) => i.storageKey) ?? []))];
  const media = new Map(
    (await inChunks(keys, (chunk) => db.media.findMany({ where: { storageKey: { in: chunk } }, select: { id: true, storageKey: true }, orderBy: { id: "asc" } }))).map((m) => [m.storageKey, m.id]),
  );

  const items: PlannedProduct[] = [];
  const wanted = new Set<string>();
  for (const parsed of products) {
    await breathe();
    const row = existing.get(parsed.handle) ?? null;
    const current = row ? snapshotOf(row) : null;
    for (const v of parsed.variants) {
      const owner = owners.get(v.sku);
      if (owner && owner.product.slug !== parsed.handle) {
        problems.push({
          line: v.line,
          column: skuColumn,
          message: `SKU ${v.sku} already belongs to "${owner.product.title}" (handle ${owner.product.slug}${owner.archivedAt ? ", an archived variant" : ""}); give this variant another SKU.`,
        });
      }
    }
    const raw = rawInput(parsed, current, media, cols, problems, warnings);
    const result = ProductInput.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) problems.push(placeIssue(issue.path, issue.message, parsed, cols));
      continue;
    }
    const input = result.data;
    // Deleting a variant's row should not force editing the images cell of
    // every other row: the image stays, without the link to the gone SKU.
    const skusOfProduct = new Set(input.variants.map((v) => v.sku.toUpperCase()));
    for (const image of input.images ?? []) {
      if (image.variantSku && !skusOfProduct.has(image.variantSku.toUpperCase())) {
        warnings.push({ line: parsed.line, column: cols.product.images ?? cols.handle, message: `An image is linked to SKU ${image.variantSku}, which is not a variant of this product in the file; the image is kept without that link.` });
        image.variantSku = null;
      }
    }
    input.collections.forEach((c) => wanted.add(c));
    const action = current === null ? "create" : isUnchanged(current, input) ? "unchanged" : "update";
    items.push({
      parsed,
      input,
      existing: row,
      plan: {
        handle: parsed.handle,
        title: input.title,
        line: parsed.line,
        action,
        variants: action === "unchanged" ? { create: 0, update: 0, archive: 0 } : variantChanges(current, input),
      },
    });
  }
  return { items, problems, warnings, collections: [...wanted] };
}

/** The lines a product's rows are on: a problem on one of them belongs to that product. */
export function linesOf(p: ParsedProduct): Set<number> {
  return new Set([p.line, ...p.variants.map((v) => v.line)]);
}

/**
 * File values over current values: a field the file does not carry (its
 * column is absent) keeps what the product has, so a Shopify file or a
 * stock-only file does not wipe translations, collections or MPNs.
 */
function rawInput(p: ParsedProduct, current: ProductSnapshot | null, media: Map<string, string>, cols: ColumnMap, problems: CsvProblem[], warnings: CsvProblem[]) {
  const g = p.given;
  const keep = <T>(given: T | undefined, now: T | undefined): T | undefined => (given !== undefined ? given : now);
  const known = current ? [...current.variants, ...current.archivedVariants] : [];

  let translations = {};
  if (g.titleFa !== undefined || g.descriptionFa !== undefined) {
    const title = (g.titleFa ?? current?.fa?.title ?? "").trim();
    const description = g.descriptionFa ?? current?.fa?.description ?? "";
    if (!title && description.trim()) {
      problems.push({ line: p.line, column: cols.product["translations.fa.title"] ?? cols.handle, message: "Give the Persian title too: a Persian description is shown only with one." });
    }
    translations = { fa: { title, description: title ? description : "" } };
  }

  let images: { mediaId: string; alt: string; variantSku: string | null }[] | undefined;
  if (g.images) {
    images = [];
    for (const ref of g.images) {
      const mediaId = media.get(ref.storageKey);
      if (!mediaId) {
        warnings.push({ line: p.line, column: cols.product.images ?? null, message: `Image ${ref.storageKey} is not in this shop's media, so it is left out; upload it in the admin.` });
        continue;
      }
      images.push({ mediaId, alt: ref.alt, variantSku: ref.sku });
    }
  }

  return {
    slug: p.handle,
    title: keep(g.title, current?.title),
    description: keep(g.description, current?.description),
    brand: keep(g.brand, current?.brand),
    condition: keep(g.condition, current?.condition),
    googleCategory: keep(g.googleCategory, current?.googleCategory),
    identifierExists: keep(g.identifierExists, current?.identifierExists),
    gender: keep(g.gender, current?.gender),
    ageGroup: keep(g.ageGroup, current?.ageGroup),
    color: keep(g.color, current?.color),
    size: keep(g.size, current?.size),
    status: keep(g.status, current?.status),
    optionNames: keep(g.optionNames, current?.optionNames),
    collections: keep(g.collections, current?.collections),
    translations,
    images,
    variants: p.variants.map((v) => {
      const now = known.find((k) => k.sku.toUpperCase() === v.sku.toUpperCase());
      const pick = <K extends keyof typeof v.given & keyof NonNullable<typeof now>>(k: K) => keep(v.given[k], now?.[k]);
      return {
        sku: v.sku,
        option1: pick("option1"),
        option2: pick("option2"),
        option3: pick("option3"),
        priceMinor: pick("priceMinor"),
        compareAtMinor: pick("compareAtMinor"),
        currency: v.given.currency,
        // Only a file without a stock column leaves it out; a new variant starts empty.
        stock: pick("stock") ?? 0,
        gtin: pick("gtin"),
        mpn: pick("mpn"),
        weightGrams: pick("weightGrams"),
      };
    }),
  };
}

/** A ProductInput issue path (variants.2.priceMinor) → the line and column of that cell. */
function placeIssue(path: PropertyKey[], message: string, p: ParsedProduct, cols: ColumnMap): CsvProblem {
  const [head, index, field] = path;
  if (head === "variants" && typeof index === "number") {
    const variant = p.variants[index];
    return { line: variant?.line ?? p.line, column: cols.variant[String(field ?? "sku")] ?? cols.variant.sku ?? cols.handle, message };
  }
  if (head === "optionNames" && typeof index === "number") return { line: p.line, column: cols.optionName(index) ?? cols.handle, message };
  const key = path.map(String).join(".");
  return { line: p.line, column: cols.product[key] ?? cols.product[String(head)] ?? cols.handle, message };
}

/** One message per cell: the first (most specific) one, e.g. "not an amount" before the schema's "whole number". */
export function dedupeProblems(problems: CsvProblem[]): CsvProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}\u0000${p.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function inChunks<K, T>(keys: K[], query: (chunk: K[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < keys.length; i += IN_CHUNK) out.push(...(await query(keys.slice(i, i + IN_CHUNK))));
  return out;
}
