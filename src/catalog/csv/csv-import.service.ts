import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Actor } from "../../audit/audit.service.js";
import type { Prisma } from "../../db/client.js";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import type { JobContext } from "../../jobs/job.js";
import { requestJobRun } from "../../jobs/jobs.service.js";
import {
  awaitsConfirmation,
  CONFIRM_TTL_MS,
  driveImport,
  IMPORT_LEASE_MS,
  loadImport,
  nextImportWithWork,
  type DriveResult,
  type ImportHooks,
} from "./csv-import.steps.js";
import type { CsvProblem, ImportProductPlan, ImportReport } from "./csv.schema.js";

export { CONFIRM_TTL_MS, type ImportChunkEvent, type ImportHooks } from "./csv-import.steps.js";

/** The job that works through imports (and cleans up after them). */
export const CATALOG_IMPORT_JOB = "catalog.import";
/**
 * Files of at most this many lines are checked (and applied) while the
 * request waits, as before; longer ones run as the background job and the
 * request answers at once. Either way the work is the same chunked engine.
 */
export const SYNC_MAX_LINES = 1000;
/** A report lists at most this many problems (and warnings); a file broken on every row says so once. */
const MAX_LISTED = 1000;
/** Products listed in a report (the summary counts them all). */
export const MAX_PRODUCTS_LISTED = 1000;
/** Imports are forgotten this long after they ended. */
const RETENTION_MS = 30 * 24 * 60 * 60_000;
/** How long one job run works before it hands back to the scheduler (it is due again at once). */
const JOB_BUDGET_MS = 10_000;

type ImportRow = NonNullable<Awaited<ReturnType<typeof loadImport>>>;

const LF = 0x0a;

/** Small enough to work through while the request waits: at most SYNC_MAX_LINES line feeds. */
export function isSmallCsv(bytes: Buffer): boolean {
  let feeds = 0;
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) if (++feeds > SYNC_MAX_LINES) return false;
  return true;
}

/**
 * Records an import: the file, who sent it and what to do with it (`check`:
 * a dry run the admin may confirm later; `apply`: check, then apply when
 * valid). A small file is returned leased to the caller, which works it
 * through at once with runImportNow; a large one is queued for the job.
 */
export async function createCatalogImport(deps: Deps, input: { bytes: Buffer; fileName: string; actor: Actor; mode: "check" | "apply"; inline: boolean }) {
  const id = randomBytes(16).toString("base64url");
  const owner = `request:${randomUUID()}`;
  const now = deps.now();
  await deps.db.catalogImport.create({
    data: {
      id,
      actorType: input.actor.type,
      actorId: input.actor.id ?? null,
      fileName: input.fileName.slice(0, 255),
      fileBytes: new Uint8Array(input.bytes),
      fileSha256: createHash("sha256").update(input.bytes).digest("hex"),
      mode: input.mode,
      ...(input.inline ? { leaseOwner: owner, leaseUntil: new Date(now.getTime() + IMPORT_LEASE_MS) } : {}),
    },
  });
  if (!input.inline) await requestJobRun(deps, CATALOG_IMPORT_JOB);
  return { id, owner };
}

/** Works an import through while the caller waits (small files), still chunk by chunk with pauses between. */
export async function runImportNow(deps: Deps, input: { id: string; owner: string; hooks?: ImportHooks }): Promise<DriveResult> {
  return driveImport(deps, input.id, { owner: input.owner, leased: true, hooks: input.hooks });
}

/**
 * One run of the `catalog.import` job: works through the imports that have
 * work left (oldest first; a run whose process died is taken over once its
 * lease runs out) until its time budget is spent, then says whether more is
 * left so the scheduler starts it again at once. Also forgets old imports.
 */
export async function runCatalogImportJob(deps: Deps, ctx: Pick<JobContext, "signal" | "progress">, options: { hooks?: ImportHooks; budgetMs?: number } = {}) {
  const owner = `job:${randomUUID()}`;
  const deadline = performance.now() + (options.budgetMs ?? JOB_BUDGET_MS);
  const tried: string[] = [];
  let more = false;
  for (;;) {
    if (ctx.signal.aborted || performance.now() > deadline) {
      more = !!(await nextImportWithWork(deps, []));
      break;
    }
    const next = await nextImportWithWork(deps, tried);
    if (!next) break;
    tried.push(next.id);
    const result = await driveImport(deps, next.id, {
      owner,
      deadline,
      signal: ctx.signal,
      hooks: options.hooks,
      onProgress: (row) => ctx.progress(progressOf(row).done, progressOf(row).total, `import ${row.id}: ${row.status}`),
    });
    if (result.ran && !result.settled) {
      more = true;
      break;
    }
  }
  const forgotten = await forgetOldImports(deps);
  return { imports: tried.length, forgotten, ...(more ? { more: true } : {}) };
}

async function forgetOldImports(deps: Deps) {
  const cutoff = new Date(deps.now().getTime() - RETENTION_MS);
  const old = await deps.db.catalogImport.findMany({
    where: { cleaned: true, OR: [{ finishedAt: { lt: cutoff } }, { finishedAt: null, checkedAt: { lt: cutoff } }] },
    select: { id: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: 5,
  });
  for (const { id } of old) {
    // In slices, so no one statement holds the write lock for long.
    for (;;) {
      const items = await deps.db.catalogImportItem.findMany({ where: { importId: id }, select: { seq: true }, orderBy: { seq: "asc" }, take: 1000 });
      if (!items.length) break;
      await deps.db.catalogImportItem.deleteMany({ where: { importId: id, seq: { in: items.map((i) => i.seq) } } });
    }
    for (;;) {
      const notes = await deps.db.catalogImportNote.findMany({ where: { importId: id }, select: { id: true }, orderBy: { id: "asc" }, take: 1000 });
      if (!notes.length) break;
      await deps.db.catalogImportNote.deleteMany({ where: { id: { in: notes.map((n) => n.id) } } });
    }
    await deps.db.catalogImport.deleteMany({ where: { id } });
  }
  return old.length;
}

/**
 * The admin's "Apply" on a dry run: only the admin who checked the file,
 * within CONFIRM_TTL_MS, once, and only the plan that was shown (its digest).
 * One conditional update moves it from checked to applying.
 */
export async function confirmCatalogImport(deps: Deps, input: { id: string; adminId: string; digest: string; inline: boolean }) {
  const now = deps.now();
  const owner = `request:${randomUUID()}`;
  const row = await loadImport(deps, input.id);
  const expired = () => new AppError("import_expired", 410, "This dry run has expired or was already applied. Choose the file and check it again.");
  if (!row || row.actorType !== "admin" || row.actorId !== input.adminId || !awaitsConfirmation(row, now) || row.createProducts + row.updateProducts === 0) throw expired();
  const moved = await deps.db.catalogImport.updateMany({
    where: {
      id: input.id,
      status: "checked",
      mode: "check",
      valid: true,
      cleaned: false,
      finishedAt: null,
      actorId: input.adminId,
      digest: input.digest,
      checkedAt: { gte: new Date(now.getTime() - CONFIRM_TTL_MS) },
      OR: [{ leaseOwner: null }, { leaseUntil: { lt: now } }],
    },
    data: {
      status: "applying",
      cursor: -1,
      ...(input.inline ? { leaseOwner: owner, leaseUntil: new Date(now.getTime() + IMPORT_LEASE_MS) } : {}),
    },
  });
  if (moved.count === 0) throw expired();
  if (!input.inline) await requestJobRun(deps, CATALOG_IMPORT_JOB);
  return { owner };
}

/** Removes a small import that no run holds any more (its rows go with it). */
export async function forgetCatalogImport(deps: Deps, input: { id: string }) {
  await deps.db.catalogImport.deleteMany({ where: { id: input.id, leaseOwner: null } });
}

/** Stops an import at its next chunk: a check ends, an apply is rolled back. A queued one no run holds ends at once. */
export async function cancelCatalogImport(deps: Deps, input: { id: string }) {
  const now = deps.now();
  const direct = await deps.db.catalogImport.updateMany({
    where: { id: input.id, status: "queued", OR: [{ leaseOwner: null }, { leaseUntil: { lt: now } }] },
    data: { status: "cancelled", errorCode: "cancelled", error: "Cancelled before it was checked.", finishedAt: now },
  });
  if (direct.count === 1) return { cancelled: true };
  const flagged = await deps.db.catalogImport.updateMany({ where: { id: input.id, status: { in: ["queued", "reading", "planning", "applying"] } }, data: { cancelRequested: true } });
  if (flagged.count === 0) throw new AppError("import_finished", 409, "This import has already finished; there is nothing to cancel.");
  return { cancelled: false };
}

/** "Check again" after a roll-back: a new dry run of the same file, for the same admin. */
export async function recheckCatalogImport(deps: Deps, input: { id: string; adminId: string }) {
  const old = await deps.db.catalogImport.findUnique({ where: { id: input.id }, select: { fileBytes: true, fileName: true, actorType: true, actorId: true } });
  if (!old || old.fileBytes.byteLength === 0 || old.actorType !== "admin" || old.actorId !== input.adminId) {
    throw new AppError("import_expired", 410, "This file is no longer kept. Choose the file and check it again.");
  }
  const bytes = Buffer.from(old.fileBytes.buffer, old.fileBytes.byteOffset, old.fileBytes.byteLength);
  const inline = isSmallCsv(bytes);
  const created = await createCatalogImport(deps, { bytes, fileName: old.fileName, actor: { type: "admin", id: input.adminId }, mode: "check", inline });
  if (inline) await runImportNow(deps, created);
  return created.id;
}

// ───────────── what an import looks like from outside: status, progress, report ─────────────

export type ImportPhase = "queued" | "reading" | "checking" | "checked" | "applying" | "publishing" | "rolling_back" | "applied" | "rolled_back" | "cancelled" | "failed";

export interface ImportProgress {
  phase: ImportPhase;
  rowsRead: number;
  productsTotal: number;
  productsChecked: number;
  productsToWrite: number;
  /** Products the apply went through (written, or confirmed still unchanged). */
  productsPassed: number;
  productsWritten: number;
  productsUndone: number;
  productsKept: number;
  problems: number;
  warnings: number;
  /** For a progress bar: the current phase's count and its end (0 when unknown). */
  done: number;
  total: number;
}

function phaseOf(row: ImportRow): ImportPhase {
  return row.status === "planning" ? "checking" : (row.status as ImportPhase);
}

export function progressOf(row: ImportRow): ImportProgress {
  const phase = phaseOf(row);
  const toWrite = row.createProducts + row.updateProducts;
  const [done, total] =
    phase === "reading" || phase === "queued"
      ? [row.rowsRead, 0]
      : phase === "checking"
        ? [row.productsChecked, row.productsTotal]
        : phase === "applying" || phase === "publishing" || phase === "applied"
          ? [row.productsPassed, row.productsChecked]
          : phase === "rolling_back" || phase === "rolled_back"
            ? [row.productsUndone + row.productsKept, row.productsWritten]
            : [row.productsChecked, row.productsTotal];
  return {
    phase,
    rowsRead: row.rowsRead,
    productsTotal: row.productsTotal,
    productsChecked: row.productsChecked,
    productsToWrite: toWrite,
    productsPassed: row.productsPassed,
    productsWritten: row.productsWritten,
    productsUndone: row.productsUndone,
    productsKept: row.productsKept,
    problems: row.problemCount,
    warnings: row.warningCount,
    done,
    total,
  };
}

/** Problems or warnings in file order: by line, then by the column's place in the header. */
async function notesOf(deps: Deps, id: string, kind: "problem" | "warning", total: number): Promise<CsvProblem[]> {
  const rows = await deps.db.catalogImportNote.findMany({
    where: { importId: id, kind },
    orderBy: [{ line: "asc" }, { place: "asc" }, { seq: "asc" }, { id: "asc" }],
    take: MAX_LISTED + 1,
    select: { line: true, column: true, message: true },
  });
  const list = rows.slice(0, MAX_LISTED);
  if (total > MAX_LISTED && rows[MAX_LISTED]) {
    list.push({ line: rows[MAX_LISTED]!.line, column: null, message: `…and ${total - MAX_LISTED} more ${kind === "problem" ? "problems" : "warnings"} from this line on. Fix the ones above and check again.` });
  }
  return list;
}

/** The import's report, as the dry run (and the apply) have always answered it: summary, problems, warnings, products. */
export async function reportOf(deps: Deps, row: ImportRow, options: { productsAfter?: number } = {}): Promise<ImportReport & { productsCursor: number | null }> {
  const items = await deps.db.catalogImportItem.findMany({
    where: { importId: row.id, ...(options.productsAfter !== undefined ? { seq: { gt: options.productsAfter } } : {}) },
    orderBy: { seq: "asc" },
    take: MAX_PRODUCTS_LISTED + 1,
    select: { seq: true, handle: true, title: true, line: true, action: true, vCreate: true, vUpdate: true, vArchive: true },
  });
  const collections = await deps.db.catalogImportKey.findMany({ where: { importId: row.id, kind: "collection" }, select: { key: true }, orderBy: { key: "asc" } });
  const products: ImportProductPlan[] = items.slice(0, MAX_PRODUCTS_LISTED).map((i) => ({
    handle: i.handle,
    title: i.title,
    line: i.line,
    action: i.action as ImportProductPlan["action"],
    variants: { create: i.vCreate, update: i.vUpdate, archive: i.vArchive },
  }));
  return {
    format: (row.format as ImportReport["format"]) ?? null,
    rows: row.rowsRead,
    valid: row.valid === true,
    applied: row.status === "applied",
    summary: {
      products: { create: row.createProducts, update: row.updateProducts, unchanged: row.keepProducts },
      variants: { create: row.createVariants, update: row.updateVariants, archive: row.archiveVariants },
      collectionsToCreate: collections.map((c) => c.key),
    },
    problems: await notesOf(deps, row.id, "problem", row.problemCount),
    warnings: await notesOf(deps, row.id, "warning", row.warningCount),
    products,
    // More products than one page: pass this as productsAfter for the next.
    productsCursor: items.length > MAX_PRODUCTS_LISTED ? items[MAX_PRODUCTS_LISTED - 1]!.seq : null,
  };
}

/** Products the import left as someone edited them during the import (listed after a roll-back). */
async function keptOf(deps: Deps, id: string) {
  return deps.db.catalogImportItem.findMany({ where: { importId: id, undo: "kept" }, select: { line: true, handle: true, productId: true }, orderBy: { seq: "asc" }, take: 100 });
}

/** Everything about one import that its pages and the API show. */
export async function describeCatalogImport(deps: Deps, input: { id: string; productsAfter?: number }) {
  const row = await loadImport(deps, input.id);
  if (!row) throw AppError.notFound("import");
  const now = deps.now();
  const checked = !["queued", "reading", "planning"].includes(row.status) && row.valid !== null;
  const report = checked ? await reportOf(deps, row, { productsAfter: input.productsAfter }) : null;
  return {
    id: row.id,
    status: row.status,
    dryRun: row.mode === "check",
    fileName: row.fileName,
    actor: { type: row.actorType, id: row.actorId },
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    checkedAt: row.checkedAt,
    finishedAt: row.finishedAt,
    digest: row.digest,
    progress: progressOf(row),
    awaitsConfirmation: awaitsConfirmation(row, now),
    confirmBy: row.checkedAt && awaitsConfirmation(row, now) ? new Date(row.checkedAt.getTime() + CONFIRM_TTL_MS) : null,
    // A run holds it now.
    running: !!row.leaseOwner && !!row.leaseUntil && row.leaseUntil > now,
    // A run holds it, or one stopped moments ago and the next is due: false means no process has worked on it for a while.
    expectedToRun: !!row.leaseUntil && row.leaseUntil > now,
    cancelRequested: row.cancelRequested,
    fileKept: row.status === "rolled_back",
    error: row.errorCode ? { code: row.errorCode, message: row.error ?? "", line: row.errorLine, column: row.errorColumn } : null,
    kept: row.productsKept > 0 ? await keptOf(deps, row.id) : [],
    report,
  };
}

export type CatalogImportView = Awaited<ReturnType<typeof describeCatalogImport>>;

/** The latest imports, for the import page. */
export async function listCatalogImports(deps: Deps, input: { limit: number }) {
  const rows = await deps.db.catalogImport.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: input.limit, omit: { fileBytes: true } });
  return rows.map((row) => ({ id: row.id, fileName: row.fileName, status: row.status, phase: phaseOf(row), dryRun: row.mode === "check", createdAt: row.createdAt, progress: progressOf(row) }));
}

/** How many dry runs wait for an admin's "Apply" (a test and the admin page use it). */
export function countAwaitingImports(deps: Deps) {
  const now = deps.now();
  return deps.db.catalogImport.count({ where: { status: "checked", mode: "check", valid: true, cleaned: false, finishedAt: null, checkedAt: { gte: new Date(now.getTime() - CONFIRM_TTL_MS) } } satisfies Prisma.CatalogImportWhereInput });
}
