import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { recordAudit, type Actor } from "../../audit/audit.service.js";
import type { Prisma } from "../../db/client.js";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { ProductInput, type ProductInputT } from "../catalog.schema.js";
import { saveProductInTx } from "../product-write.service.js";
import { readOurFile } from "./csv-ours.js";
import { readCsv } from "./csv-read.js";
import type { ColumnMap, MappedFile, ParsedProduct } from "./csv-rows.js";
import { isShopifyHeader, readShopifyFile } from "./csv-shopify.js";
import type { CsvProblem, ImportProductPlan, ImportReport } from "./csv.schema.js";
import { isUnchanged, SNAPSHOT_INCLUDE, snapshotOf, variantChanges, type ProductSnapshot } from "./product-snapshot.js";

type Tx = Prisma.TransactionClient;

/** A report lists at most this many problems (and warnings); a file broken on every row says so once. */
const MAX_LISTED = 1000;
/** Keys per `IN (…)` query, well under SQLite's bound-parameter limit. */
const CHUNK = 500;

interface PlannedProduct {
  parsed: ParsedProduct;
  input: ProductInputT;
  existing: ProductSnapshot | null;
  action: ImportProductPlan["action"];
}

interface Plan {
  report: ImportReport;
  items: PlannedProduct[];
  digest: string;
}

/**
 * Dry run: reads and checks the whole file against the catalog and says what
 * an apply would do. Writes nothing.
 */
export async function previewCatalogImport(deps: Deps, input: { bytes: Buffer }): Promise<ImportReport & { digest: string }> {
  const mapped = mapFile(deps, input.bytes);
  if (!("columns" in mapped)) return { ...mapped, digest: "" };
  const plan = await planImport(deps.db, deps, mapped);
  return { ...plan.report, digest: plan.digest };
}

/**
 * Applies a file: every row or none, in one transaction through the same
 * write path as the admin form and the API. Products whose data would not
 * change are not written at all (re-importing an export touches nothing);
 * products not in the file are left alone. With `expectedDigest` (the admin's
 * two-step flow) nothing is written if the plan differs from the dry run the
 * person saw, e.g. because the catalog changed in between.
 */
export async function applyCatalogImport(
  deps: Deps,
  input: { bytes: Buffer; actor: Actor; fileName?: string; expectedDigest?: string; pendingId?: string },
): Promise<ImportReport & { planChanged: boolean; digest: string }> {
  const mapped = mapFile(deps, input.bytes);
  if (!("columns" in mapped)) return { ...mapped, planChanged: false, digest: "" };
  try {
    return await deps.db.$transaction(
      async (tx) => {
        const plan = await planImport(tx, deps, mapped);
        if (!plan.report.valid) return { ...plan.report, planChanged: false, digest: plan.digest };
        if (input.expectedDigest !== undefined && input.expectedDigest !== plan.digest) return { ...plan.report, planChanged: true, digest: plan.digest };

        for (const slug of plan.report.summary.collectionsToCreate) {
          await tx.collection.create({ data: { slug, title: titleFromSlug(slug) } });
        }
        for (const item of plan.items) {
          if (item.action === "unchanged") continue;
          try {
            await saveProductInTx(tx, deps, item.input, item.existing?.id);
          } catch (err) {
            // Only a change made between planning and this write gets here
            // (the plan checks what saveProductInTx checks): undo everything.
            if (err instanceof AppError) throw new RollBack({ ...plan.report, valid: false, problems: [{ line: item.parsed.line, column: mapped.columns.handle, message: err.message }] });
            throw err;
          }
        }
        if (input.pendingId) await tx.setting.deleteMany({ where: { key: pendingKey(input.pendingId) } });
        await recordAudit(tx, {
          actor: input.actor,
          action: "catalog.import",
          entityType: "catalog",
          details: {
            format: plan.report.format,
            fileName: input.fileName ?? null,
            sha256: createHash("sha256").update(input.bytes).digest("hex"),
            rows: plan.report.rows,
            summary: plan.report.summary,
          },
        });
        return { ...plan.report, applied: true, planChanged: false, digest: plan.digest };
      },
      // A large file is thousands of writes, far more than the 5 s Prisma
      // allows an interactive transaction by default. The budget grows with
      // the file (about 4x the 27 ms per product measured on a loaded 2-core
      // machine), so a big import finishes while a stuck one is still ended.
      { timeout: 30_000 + 100 * mapped.products.length, maxWait: 10_000 },
    );
  } catch (err) {
    if (err instanceof RollBack) return { ...err.report, planChanged: false, digest: "" };
    throw err;
  }
}

class RollBack extends Error {
  constructor(readonly report: ImportReport) {
    super("import rolled back");
  }
}

function emptyReport(problems: CsvProblem[]): ImportReport {
  return {
    format: null,
    rows: 0,
    valid: false,
    applied: false,
    summary: { products: { create: 0, update: 0, unchanged: 0 }, variants: { create: 0, update: 0, archive: 0 }, collectionsToCreate: [] },
    problems: capped(problems, "problems"),
    warnings: [],
    products: [],
  };
}

/** Bytes → rows of a known format, or a report saying why the file cannot be read. */
function mapFile(deps: Deps, bytes: Buffer): MappedFile | ImportReport {
  const read = readCsv(bytes);
  if (!read.ok) return emptyReport(read.problems);
  const { header, headerLine, records } = read;
  if (records.length === 0) return emptyReport([{ line: headerLine + 1, column: null, message: "The file has a header but no rows; add one row per variant." }]);
  if (isShopifyHeader(header)) return readShopifyFile(header, headerLine, records, deps.shop.currency);
  if (header.includes("handle")) return readOurFile(header, headerLine, records, deps.shop.currency);
  return emptyReport([
    {
      line: headerLine,
      column: null,
      message: "The header is not one we know. Use our columns (handle,title,…,sku,price,stock,…) or a Shopify product export (Handle,Title,Body (HTML),…,Variant Price).",
    },
  ]);
}

/**
 * Checks every product of the file against the catalog (through
 * ProductInput, the one schema for a product, plus what only the database
 * knows) and decides, per product, create, update or leave unchanged.
 */
async function planImport(db: Tx, deps: Deps, file: MappedFile): Promise<Plan> {
  const problems = [...file.problems];
  const warnings = [...file.warnings];
  const cols = file.columns;
  const skuColumn = cols.variant.sku ?? cols.handle;

  // A SKU names one variant in the whole shop, so one file row at most.
  const firstLineOfSku = new Map<string, number>();
  for (const p of file.products) {
    for (const v of p.variants) {
      if (!v.sku) continue;
      const seen = firstLineOfSku.get(v.sku.toUpperCase());
      if (seen !== undefined) problems.push({ line: v.line, column: skuColumn, message: `SKU ${v.sku} is also on line ${seen}; every variant needs its own SKU.` });
      else firstLineOfSku.set(v.sku.toUpperCase(), v.line);
    }
  }

  const handles = file.products.map((p) => p.handle);
  const skus = file.products.flatMap((p) => p.variants.map((v) => v.sku)).filter(Boolean);
  const existingRows = await inChunks(handles, (slugs) => db.product.findMany({ where: { slug: { in: slugs } }, include: SNAPSHOT_INCLUDE }));
  const existing = new Map(existingRows.map((r) => [r.slug, snapshotOf(r)]));
  const owners = new Map(
    (await inChunks(skus, (chunk) => db.variant.findMany({ where: { sku: { in: chunk } }, select: { sku: true, archivedAt: true, product: { select: { slug: true, title: true } } } }))).map((v) => [v.sku, v]),
  );
  const keys = [...new Set(file.products.flatMap((p) => p.given.images?.map((i) => i.storageKey) ?? []))];
  const media = new Map((await inChunks(keys, (chunk) => db.media.findMany({ where: { storageKey: { in: chunk } }, select: { id: true, storageKey: true } }))).map((m) => [m.storageKey, m.id]));

  const items: PlannedProduct[] = [];
  const wanted = new Set<string>();
  for (const parsed of file.products) {
    const current = existing.get(parsed.handle) ?? null;
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
    items.push({ parsed, input, existing: current, action });
  }

  const known = new Set((await inChunks([...wanted], (chunk) => db.collection.findMany({ where: { slug: { in: chunk } }, select: { slug: true } }))).map((c) => c.slug));
  const collectionsToCreate = [...wanted].filter((s) => !known.has(s)).sort();

  const products: ImportProductPlan[] = items.map((i) => ({
    handle: i.parsed.handle,
    title: i.input.title,
    line: i.parsed.line,
    action: i.action,
    variants: i.action === "unchanged" ? { create: 0, update: 0, archive: 0 } : variantChanges(i.existing, i.input),
  }));
  const count = (a: ImportProductPlan["action"]) => products.filter((p) => p.action === a).length;
  const sum = (k: "create" | "update" | "archive") => products.reduce((n, p) => n + p.variants[k], 0);
  const sorted = sortProblems(dedupe(problems), file.header);
  const report: ImportReport = {
    format: file.format,
    rows: file.rows,
    valid: sorted.length === 0,
    applied: false,
    summary: {
      products: { create: count("create"), update: count("update"), unchanged: count("unchanged") },
      variants: { create: sum("create"), update: sum("update"), archive: sum("archive") },
      collectionsToCreate,
    },
    problems: capped(sorted, "problems"),
    warnings: capped(sortProblems(warnings, file.header), "warnings"),
    products,
  };
  const digest = createHash("sha256").update(JSON.stringify([products, collectionsToCreate])).digest("base64url");
  return { report, items, digest };
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
function dedupe(problems: CsvProblem[]): CsvProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}\u0000${p.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** In file order: by line, then by the column's place in the header (whole-row problems first). */
function sortProblems(problems: CsvProblem[], header: string[]): CsvProblem[] {
  const place = (p: CsvProblem) => (p.column === null ? -1 : header.indexOf(p.column));
  return problems.map((p, i) => [p, i] as const).sort((a, b) => a[0].line - b[0].line || place(a[0]) - place(b[0]) || a[1] - b[1]).map(([p]) => p);
}

function capped(list: CsvProblem[], what: string): CsvProblem[] {
  if (list.length <= MAX_LISTED) return list;
  const rest = list.length - MAX_LISTED;
  return [...list.slice(0, MAX_LISTED), { line: list[MAX_LISTED]!.line, column: null, message: `…and ${rest} more ${what} from this line on. Fix the ones above and check again.` }];
}

async function inChunks<K, T>(keys: K[], query: (chunk: K[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) out.push(...(await query(keys.slice(i, i + CHUNK))));
  return out;
}

/** "summer-sale" → "Summer sale": a readable title for a collection the import creates. */
function titleFromSlug(slug: string): string {
  const words = slug.replace(/-/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ───────────── the admin's two-step flow: dry run, then apply that same file ─────────────

const PENDING_PREFIX = "csv-import:";
/** How long a checked file waits for its "Apply" click. */
export const PENDING_TTL_MS = 30 * 60_000;

const pendingKey = (id: string) => `${PENDING_PREFIX}${id}`;

const PendingValue = z.object({ adminId: z.string(), fileName: z.string(), text: z.string(), digest: z.string() });

/**
 * Keeps a checked file server-side (a Setting row keyed by a random id) so
 * "Apply" applies exactly the bytes that were previewed, not a re-upload.
 * Expired files are swept whenever a new one is stored.
 */
export async function savePendingImport(deps: Deps, input: { adminId: string; fileName: string; bytes: Buffer; digest: string }): Promise<string> {
  const now = deps.now();
  await deps.db.setting.deleteMany({ where: { key: { startsWith: PENDING_PREFIX }, updatedAt: { lt: new Date(now.getTime() - PENDING_TTL_MS) } } });
  const id = randomBytes(16).toString("base64url");
  const value = JSON.stringify({ adminId: input.adminId, fileName: input.fileName, text: input.bytes.toString("utf8"), digest: input.digest });
  await deps.db.setting.create({ data: { key: pendingKey(id), value, updatedAt: now } });
  return id;
}

/** The stored file, for the admin who checked it, while it has not expired. */
export async function loadPendingImport(deps: Deps, input: { id: string; adminId: string }) {
  const row = await deps.db.setting.findUnique({ where: { key: pendingKey(input.id) } });
  const value = row ? PendingValue.safeParse(JSON.parse(row.value)) : null;
  if (!row || !value?.success || value.data.adminId !== input.adminId || row.updatedAt.getTime() < deps.now().getTime() - PENDING_TTL_MS) {
    throw new AppError("import_expired", 410, "This dry run has expired or was already applied. Choose the file and check it again.");
  }
  return { id: input.id, fileName: value.data.fileName, bytes: Buffer.from(value.data.text, "utf8"), digest: value.data.digest };
}

/** Replaces the plan a person confirmed, after they were shown a changed one. */
export async function updatePendingDigest(deps: Deps, input: { id: string; digest: string }) {
  const row = await deps.db.setting.findUnique({ where: { key: pendingKey(input.id) } });
  if (!row) return;
  const value = PendingValue.parse(JSON.parse(row.value));
  await deps.db.setting.update({ where: { key: row.key }, data: { value: JSON.stringify({ ...value, digest: input.digest }), updatedAt: row.updatedAt } });
}
