/**
 * Review import and export as CSV.
 *
 * Import reads our own export, a Judge.me export or an Okendo import sheet.
 * Every row is checked first; the problems come back with their line numbers
 * and, if there is any, nothing is written (a dry run stops there in any
 * case). Otherwise all rows are written in one transaction.
 *
 * Two things never come across, on purpose:
 * - the "verified buyer" badge: we can only vouch for buyers who came through
 *   our own review link, so imported reviews are never marked verified;
 * - a "rejected" or "hidden" state: a review we hide needs one of our content
 *   rules in the audit log, so such rows arrive as pending for a person to
 *   decide. Rows marked published arrive published unless our filters hold them.
 * Photo URLs are not fetched (the server makes no outbound requests); they
 * are counted in the report.
 */
import type * as CsvParse from "csv-parse/sync";
import type * as CsvStringify from "csv-stringify/sync";
import { z } from "zod";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { hadInvalidBytes, markInvalidBytes, NOT_UTF8 } from "../http/well-formed.js";
import { mediaPath } from "../media/media.paths.js";
import { contentHashOf, flagSummary, moderateContent } from "./moderation.js";
import { lazyModule } from "../lazy.js";

const csvParse = lazyModule<typeof CsvParse>("csv-parse/sync");
const csvStringify = lazyModule<typeof CsvStringify>("csv-stringify/sync");
import { Rating, REVIEW_LIMITS } from "./reviews.schema.js";
import { getReviewSettings } from "./settings.js";
import { moveReviewInTx } from "./summary.js";

export type CsvFormat = "ours" | "judgeme" | "okendo";
export interface CsvProblem {
  line: number;
  column: string | null;
  message: string;
}

export const OUR_COLUMNS = [
  "review_id", "product_handle", "sku", "rating", "title", "body", "reviewer_name", "reviewer_email", "locale", "status",
  "verified_buyer", "incentivized", "source", "helpful_count", "created_at", "published_at", "reply", "photo_urls",
] as const;

/** Which column of each format means what. */
const COLUMNS: Record<CsvFormat, { handle: string[]; sku: string[]; rating: string; title: string | null; body: string; name: string; email: string | null; date: string | null; status: string | null; reply: string | null; photos: string | null; id: string | null; incentivized: string | null; locale: string | null }> = {
  ours: { handle: ["product_handle"], sku: ["sku"], rating: "rating", title: "title", body: "body", name: "reviewer_name", email: "reviewer_email", date: "created_at", status: "status", reply: "reply", photos: "photo_urls", id: "review_id", incentivized: "incentivized", locale: "locale" },
  judgeme: { handle: ["product_handle"], sku: [], rating: "rating", title: "title", body: "body", name: "reviewer_name", email: "reviewer_email", date: "review_date", status: "curated", reply: "reply", photos: "picture_urls", id: null, incentivized: null, locale: null },
  okendo: { handle: ["handle"], sku: ["sku"], rating: "rating", title: "title", body: "body", name: "name", email: "email", date: "dateCreated", status: null, reply: "reply", photos: "imageUrls", id: null, incentivized: null, locale: null },
};

/** The file's format from its header: each has columns the others lack. */
export function detectFormat(header: string[]): CsvFormat | null {
  const has = (c: string) => header.includes(c);
  if (has("reviewer_name") && has("created_at") && has("product_handle")) return "ours";
  if (has("reviewer_name") && (has("review_date") || has("curated"))) return "judgeme";
  if (has("name") && has("dateCreated")) return "okendo";
  return null;
}

interface ParsedRow {
  line: number;
  productId: string;
  variantId: string | null;
  rating: number;
  title: string;
  body: string;
  displayName: string;
  email: string | null;
  locale: string;
  createdAt: Date;
  wantsPublished: boolean;
  incentivized: boolean;
  reply: string;
  photoUrls: number;
  contentHash: string;
}

export interface ImportReport {
  format: CsvFormat | null;
  dryRun: boolean;
  rows: number;
  problems: CsvProblem[];
  /** What would be (or was) created: counts per resulting status. */
  created: { published: number; pending: number };
  skipped: { line: number; reason: string }[];
  photoUrlsNotFetched: number;
  verifiedIgnored: number;
  applied: boolean;
}

const MAX_ROWS = 20_000;

/** Checks (and unless dryRun, applies) a review CSV. All rows or none. */
export async function importReviewsCsv(deps: Deps, input: { bytes: Buffer; format: CsvFormat | "auto"; dryRun: boolean; actor: Actor }): Promise<ImportReport> {
  const report: ImportReport = { format: null, dryRun: input.dryRun, rows: 0, problems: [], created: { published: 0, pending: 0 }, skipped: [], photoUrlsNotFetched: 0, verifiedIgnored: 0, applied: false };
  const read = readRecords(input.bytes);
  if (!read.ok) return { ...report, problems: read.problems };
  const format = input.format === "auto" ? detectFormat(read.header) : input.format;
  if (!format) {
    return { ...report, problems: [{ line: 1, column: null, message: "Unknown columns: expected our export, a Judge.me export (reviewer_name, review_date) or an Okendo sheet (name, dateCreated)." }] };
  }
  report.format = format;
  const cols = COLUMNS[format];
  const missing = [cols.rating, cols.body, cols.name].filter((c) => !read.header.includes(c));
  if (![...cols.handle, ...cols.sku].some((c) => read.header.includes(c))) missing.push([...cols.handle, ...cols.sku].join(" or "));
  if (missing.length > 0) return { ...report, problems: [{ line: 1, column: null, message: `Missing columns: ${missing.join(", ")}.` }] };
  if (read.records.length > MAX_ROWS) return { ...report, problems: [{ line: 1, column: null, message: `At most ${MAX_ROWS} reviews per file; split it.` }] };
  report.rows = read.records.length;

  const [products, variants, existingIds] = await Promise.all([
    deps.db.product.findMany({ select: { id: true, slug: true } }),
    deps.db.variant.findMany({ select: { id: true, sku: true, productId: true } }),
    cols.id ? deps.db.review.findMany({ where: { id: { in: read.records.map((r) => r.cell(cols.id!)).filter(Boolean) } }, select: { id: true } }) : Promise.resolve([]),
  ]);
  const bySlug = new Map(products.map((p) => [p.slug, p.id]));
  const bySku = new Map(variants.map((v) => [v.sku.toLowerCase(), v]));
  const known = new Set(existingIds.map((r) => r.id));

  const rows: ParsedRow[] = [];
  const seen = new Set<string>();
  for (const rec of read.records) {
    const problem = (column: string | null, message: string) => report.problems.push({ line: rec.line, column, message });
    if (cols.id && known.has(rec.cell(cols.id))) {
      report.skipped.push({ line: rec.line, reason: "already in the shop (same review_id)" });
      continue;
    }
    const handle = cols.handle.map((c) => rec.cell(c)).find(Boolean) ?? "";
    const sku = cols.sku.map((c) => rec.cell(c)).find(Boolean) ?? "";
    const variant = sku ? bySku.get(sku.toLowerCase()) : undefined;
    const productId = handle ? bySlug.get(handle.toLowerCase()) : variant?.productId;
    if (!handle && !sku) problem(cols.handle[0] ?? cols.sku[0]!, "Give the product handle (our URL slug) or a SKU.");
    else if (!productId) problem(handle ? cols.handle[0]! : cols.sku[0]!, handle ? `No product with the handle "${handle}".` : `No variant with the SKU "${sku}".`);

    const rating = Rating.safeParse(rec.cell(cols.rating));
    if (!rating.success) problem(cols.rating, `"${rec.cell(cols.rating)}" is not a whole number of stars from 1 to 5.`);
    const body = cleanCell(rec.cell(cols.body));
    if (!body) problem(cols.body, "The review text is empty.");
    else if (body.length > REVIEW_LIMITS.body) problem(cols.body, `At most ${REVIEW_LIMITS.body} characters (this one has ${body.length}).`);
    const title = cols.title ? cleanCell(rec.cell(cols.title)) : "";
    if (title.length > REVIEW_LIMITS.title) problem(cols.title, `At most ${REVIEW_LIMITS.title} characters.`);
    const displayName = cleanCell(rec.cell(cols.name));
    if (!displayName) problem(cols.name, "The reviewer name is empty.");
    else if (displayName.length > REVIEW_LIMITS.displayName) problem(cols.name, `At most ${REVIEW_LIMITS.displayName} characters.`);
    const emailRaw = cols.email ? rec.cell(cols.email).trim().toLowerCase() : "";
    const email = emailRaw ? z.email().safeParse(emailRaw) : null;
    if (email && !email.success) problem(cols.email, `"${emailRaw}" is not an email address.`);
    const dateRaw = cols.date ? rec.cell(cols.date).trim() : "";
    const createdAt = dateRaw ? parseDate(dateRaw) : deps.now();
    if (!createdAt) problem(cols.date, `"${dateRaw}" is not a date (use 2026-11-20 or 2026-11-20T10:00:00Z).`);
    else if (createdAt.getTime() > deps.now().getTime() + 24 * 3600 * 1000) problem(cols.date, "The date is in the future.");
    const reply = cols.reply ? cleanCell(rec.cell(cols.reply)) : "";
    if (reply.length > REVIEW_LIMITS.reply) problem(cols.reply, `At most ${REVIEW_LIMITS.reply} characters.`);
    const locale = cols.locale ? rec.cell(cols.locale).trim() || "en" : /[\u0600-\u06FF]/.test(body) ? "fa" : "en";
    if (locale !== "en" && locale !== "fa") problem(cols.locale, `"${locale}" is not a language we show (en or fa).`);
    const status = cols.status ? rec.cell(cols.status).trim().toLowerCase() : "";
    const incentivizedRaw = cols.incentivized ? rec.cell(cols.incentivized).trim().toLowerCase() : "";
    if (incentivizedRaw && !["yes", "no", "true", "false", "1", "0"].includes(incentivizedRaw)) problem(cols.incentivized, `"${incentivizedRaw}" is not yes or no.`);
    if (format === "ours" && ["yes", "true", "1"].includes(rec.cell("verified_buyer").trim().toLowerCase())) report.verifiedIgnored++;
    const photoUrls = cols.photos ? rec.cell(cols.photos).split(/[\s,]+/).filter((u) => /^https?:\/\//i.test(u)).length : 0;

    if (!productId || !rating.success || !body || !displayName || !createdAt || report.problems.some((p) => p.line === rec.line)) continue;
    const contentHash = contentHashOf({ title, body });
    const key = `${productId}:${contentHash || `${rec.line}`}`;
    if (contentHash && seen.has(key)) {
      report.skipped.push({ line: rec.line, reason: "the same text for the same product appears earlier in the file" });
      continue;
    }
    seen.add(key);
    report.photoUrlsNotFetched += photoUrls;
    rows.push({
      line: rec.line,
      productId,
      variantId: !handle && variant ? variant.id : null,
      rating: rating.data,
      title,
      body,
      displayName,
      email: email?.success ? email.data : null,
      locale,
      createdAt,
      // Judge.me "curated: ok", Okendo (no column: its sheets hold published reviews), ours "published".
      wantsPublished: format === "okendo" ? true : format === "judgeme" ? status === "ok" || status === "" : status === "published" || status === "",
      incentivized: ["yes", "true", "1"].includes(incentivizedRaw),
      reply,
      photoUrls,
      contentHash,
    });
  }

  // Same text already in the shop for that product: an earlier import of this file.
  const hashes = rows.map((r) => r.contentHash).filter(Boolean);
  const existing = hashes.length ? await deps.db.review.findMany({ where: { contentHash: { in: hashes } }, select: { productId: true, contentHash: true } }) : [];
  const inShop = new Set(existing.map((e) => `${e.productId}:${e.contentHash}`));
  const toCreate = rows.filter((r) => {
    if (r.contentHash && inShop.has(`${r.productId}:${r.contentHash}`)) {
      report.skipped.push({ line: r.line, reason: "already in the shop (same text for this product)" });
      return false;
    }
    return true;
  });
  report.skipped.sort((a, b) => a.line - b.line);

  const settings = await getReviewSettings(deps.db);
  // The same filters as every submission; "published" in the file stands for
  // the merchant's decision to publish, so auto-publish does not apply.
  const decided = toCreate.map((r) => ({ row: r, decision: moderateContent({ fields: { title: r.title, body: r.body, displayName: r.displayName }, isDuplicate: false }, { ...settings, autoPublish: r.wantsPublished }) }));
  for (const d of decided) report.created[d.decision.status === "published" ? "published" : "pending"]++;
  if (report.problems.length > 0 || input.dryRun) return report;

  await deps.db.$transaction(
    async (tx) => {
      for (const { row, decision } of decided) {
        const review = await tx.review.create({
          data: {
            productId: row.productId,
            variantId: row.variantId,
            rating: row.rating,
            title: decision.fields.title!,
            body: decision.fields.body!,
            displayName: decision.fields.displayName!,
            email: row.email,
            locale: row.locale,
            status: "pending",
            verifiedBuyer: false,
            incentivized: row.incentivized,
            source: "import",
            contentHash: row.contentHash,
            flags: flagSummary(decision.flags),
            createdAt: row.createdAt,
            ...(row.reply ? { reply: { create: { body: row.reply, createdAt: row.createdAt } } } : {}),
          },
        });
        if (decision.status === "published") await moveReviewInTx(tx, { now: () => row.createdAt }, { reviewId: review.id, to: "published" });
        if (decision.flags.some((f) => f.action === "hold") && row.wantsPublished) {
          await recordAudit(tx, { actor: { type: "system" }, action: "review.hold", entityType: "review", entityId: review.id, rule: flagSummary(decision.flags), details: { flags: decision.flags, source: "import", line: row.line } });
        }
      }
      await recordAudit(tx, { actor: input.actor, action: "review.import", entityType: "settings", entityId: "reviews", details: { format, created: report.created, skipped: report.skipped.length } });
    },
    { timeout: 120_000 },
  );
  report.applied = true;
  return report;
}

/** Text from a cell: a leading apostrophe our export put before =, +, - or @ is taken off again. */
function cleanCell(value: string): string {
  return value
    .replace(/^'(?=[=+\-@])/, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, "")
    .trim();
}

/** ISO dates and date-times; Judge.me and Okendo both write ISO 8601 (or "2026-11-20 10:00:00 UTC"). */
function parseDate(value: string): Date | null {
  const v = value.replace(/ UTC$/, "Z").replace(/^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})/, "$1T$2");
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

interface CsvRecord {
  line: number;
  cell(column: string): string;
}

/** UTF-8 text → header and records with the physical line each record starts on. */
function readRecords(bytes: Buffer): { ok: true; header: string[]; records: CsvRecord[] } | { ok: false; problems: CsvProblem[] } {
  let data = bytes;
  if (data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
  // Bytes that are not UTF-8 are marked here, so each bad cell can be reported at its line and column.
  const text = markInvalidBytes(data, NOT_UTF8);
  if (text.trim() === "") return { ok: false, problems: [{ line: 1, column: null, message: "The file is empty." }] };
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = csvParse().parse(text, { info: true, relax_column_count: true, skip_empty_lines: false, bom: false }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { message: string; lines?: number };
    return { ok: false, problems: [{ line: e.lines ?? 1, column: null, message: `Malformed CSV: ${e.message}` }] };
  }
  const [head, ...rest] = parsed;
  if (!head) return { ok: false, problems: [{ line: 1, column: null, message: "The file is empty." }] };
  const header = head.record.map((h) => h.trim());
  const records: CsvRecord[] = [];
  const notUtf8: CsvProblem[] = [];
  const checkCells = (line: number, cells: string[]) => {
    cells.forEach((cell, i) => {
      if (hadInvalidBytes(cell)) notUtf8.push({ line, column: line === 1 ? null : (header[i] ?? `column ${i + 1}`), message: "This cell is not UTF-8 text. Save the file as \"CSV UTF-8\" and upload it again." });
    });
  };
  checkCells(1, head.record);
  let previousEnd = head.info.lines;
  for (const { record, info } of rest) {
    // A record starts on the line after the previous one ended, even when a
    // quoted cell spans several lines.
    const line = previousEnd + 1;
    previousEnd = info.lines;
    checkCells(line, record);
    if (record.every((c) => c.trim() === "")) continue;
    records.push({ line, cell: (column) => record[header.indexOf(column)] ?? "" });
  }
  if (notUtf8.length > 0) return { ok: false, problems: notUtf8 };
  return { ok: true, header, records };
}

/** Formula injection guard: a cell a spreadsheet would run as a formula gets a leading apostrophe. */
function safeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** Every review (any status) in our format, oldest first. */
export async function exportReviewsCsv(deps: Deps, input: { publicBase: string }): Promise<string> {
  const reviews = await deps.db.review.findMany({
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { product: { select: { slug: true } }, variant: { select: { sku: true } }, reply: true, photos: { orderBy: [{ position: "asc" }, { id: "asc" }], include: { media: { select: { storageKey: true } } } } },
  });
  const rows = reviews.map((r) => [
    r.id,
    r.product.slug,
    r.variant?.sku ?? "",
    String(r.rating),
    safeCell(r.title),
    safeCell(r.body),
    safeCell(r.displayName),
    r.email ?? "",
    r.locale,
    r.status,
    r.verifiedBuyer ? "yes" : "no",
    r.incentivized ? "yes" : "no",
    r.source,
    String(r.helpfulCount),
    r.createdAt.toISOString(),
    r.publishedAt?.toISOString() ?? "",
    safeCell(r.reply?.body ?? ""),
    r.photos.map((p) => `${input.publicBase}${mediaPath(p.media.storageKey, "square")}`).join(" "),
  ]);
  return csvStringify().stringify([[...OUR_COLUMNS], ...rows]);
}

/** For routes: a 400 when the upload is missing. */
export function requireCsvFile(file: { buffer: Buffer } | undefined): Buffer {
  if (!file || file.buffer.length === 0) throw AppError.validation("file: choose a CSV file to upload.", [{ field: "file", message: "required" }]);
  return file.buffer;
}
