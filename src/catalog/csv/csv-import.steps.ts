import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { recordAudit, type Actor } from "../../audit/audit.service.js";
import type { Prisma } from "../../db/client.js";
import { dialectOf, type Dialect } from "../../db/dialect.js";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { saveProductInTx } from "../product-write.service.js";
import { formatFor, UNKNOWN_HEADER_MESSAGE } from "./csv-formats.js";
import { decodeRows, encodeRows, loadProductRows, loadProductsRows, restoreProduct, rowsOf, sameProduct } from "./csv-import.journal.js";
import { dedupeProblems, inChunks, linesOf, planProducts } from "./csv-plan.js";
import { checkCsvBytes, CsvStreamError, streamCsvRecords, type StreamedRecord } from "./csv-read.js";
import type { CsvFormatReader, MappedNote } from "./csv-rows.js";
import type { CsvProblem, ImportProductPlan } from "./csv.schema.js";

/**
 * The import engine: an import is a row (CatalogImport) with a status, and
 * each status is a phase worked through in short chunks. Every chunk is one
 * short transaction that also moves the import's cursor and counters, so a
 * run can stop after any chunk (time budget, shutdown, crash) and the next
 * run, in this process or another, carries on from there.
 *
 *   queued → reading (stream-parse the file, stage its rows)
 *          → planning (check products against the catalog, chunk by chunk; record the plan)
 *          → checked (the dry run's report; the admin confirms, or the API asked to apply)
 *          → applying (create collections; then per chunk: plan again, journal, write)
 *          → publishing (one statement shows the new products, audit row) → applied
 *   applying/publishing → rolling_back (undo the journal, newest first) → rolled_back
 *   queued/reading/planning → cancelled | failed
 *
 * Prisma over SQLite never yields to the event loop by itself (the driver
 * is synchronous), so the run yields on purpose: between any two queries
 * outside a transaction and every few milliseconds of work, letting waiting
 * requests in. A transaction is never interrupted (no other request's query
 * may run inside it); the apply and undo transactions are sized so one takes
 * about TARGET_TX_MS. After each chunk the run pauses for PAUSE_RATIO times
 * the time it kept the event loop busy.
 */

type Tx = Prisma.TransactionClient;
type ImportRow = Omit<Prisma.CatalogImportGetPayload<object>, "fileBytes">;

/** How long a run holds an import between chunks before another run may take it over (a crash lets it run out). */
export const IMPORT_LEASE_MS = 2 * 60_000;
/** After a run stops, how long the import's page still expects the next run before it says no process runs the jobs. */
export const NEXT_RUN_GRACE_MS = 30_000;
/** A run that lost its lease this many times in a row (its process died mid-import each time) is not resumed again: the import is rolled back. */
export const MAX_TAKEOVERS = 3;
/** How long a checked file waits for the admin's "Apply". */
export const CONFIRM_TTL_MS = 30 * 60_000;
/** What one write transaction aims at: the longest the import holds the event loop and the write lock at a time. */
export const TARGET_TX_MS = 10;
/** The same on PostgreSQL, where a transaction blocks neither the event loop nor other writers (only the rows it writes). */
export const TARGET_TX_MS_POSTGRES = 100;
/** Outside transactions the run yields after this much work at most. */
const SLICE_MS = 5;
/** Pause after a chunk, relative to the time it kept the event loop busy: 1 leaves requests at least half of the time. */
export const PAUSE_RATIO = 1;
/** Rows staged per read chunk, products per check chunk (the check yields between its queries, so these can be large). */
const READ_BATCH = 500;
const PLAN_BATCH = 100;

const TX = { timeout: 120_000, maxWait: 60_000 };
const ACTIVE = ["queued", "reading", "planning", "applying", "publishing", "rolling_back"];
const FINAL = ["applied", "rolled_back", "cancelled", "failed"];

export class LeaseLost extends Error {
  constructor() {
    super("another run took this import over");
  }
}

/** Observes an import between chunks (tests use it to act at a known point of a running import). */
export interface ImportHooks {
  afterChunk?(event: ImportChunkEvent): void | Promise<void>;
}

export interface ImportChunkEvent {
  importId: string;
  phase: "read" | "plan" | "apply" | "undo" | "cleanup";
  /** Rows read, products checked, written or undone so far. */
  done: number;
  total: number;
}

export interface DriveOptions {
  owner: string;
  /** The caller already holds the lease (it created the import with it). */
  leased?: boolean;
  /** performance.now() after which the run stops at the next chunk boundary. */
  deadline?: number;
  signal?: AbortSignal;
  hooks?: ImportHooks;
  onProgress?: (row: ImportRow) => Promise<void>;
}

export type DriveResult = { ran: false } | { ran: true; settled: boolean };

export function loadImport(deps: Pick<Deps, "db">, id: string): Promise<ImportRow | null> {
  return deps.db.catalogImport.findUnique({ where: { id }, omit: { fileBytes: true } });
}

/** True while the admin may still click "Apply" on a checked dry run. */
export function awaitsConfirmation(row: ImportRow, now: Date): boolean {
  return row.status === "checked" && row.mode === "check" && row.valid === true && !row.cleaned && row.finishedAt === null && !!row.checkedAt && row.checkedAt.getTime() >= now.getTime() - CONFIRM_TTL_MS;
}

/**
 * Takes an import's lease with one conditional update: when it is free or
 * already ours; else, when it ran out (its holder stopped without releasing
 * it), counting the takeover. Whoever's update changes the row works on it.
 */
export async function takeImportLease(deps: Pick<Deps, "db" | "now">, id: string, owner: string): Promise<"taken" | "taken-over" | null> {
  const now = deps.now();
  const until = new Date(now.getTime() + IMPORT_LEASE_MS);
  const free = await deps.db.catalogImport.updateMany({ where: { id, OR: [{ leaseOwner: null }, { leaseOwner: owner }] }, data: { leaseOwner: owner, leaseUntil: until } });
  if (free.count === 1) return "taken";
  const expired = await deps.db.catalogImport.updateMany({ where: { id, leaseUntil: { lt: now } }, data: { leaseOwner: owner, leaseUntil: until, takeovers: { increment: 1 } } });
  return expired.count === 1 ? "taken-over" : null;
}

/**
 * Frees the import for any run at once (no owner), but keeps `leaseUntil` a
 * little ahead: the job is due again right after a run that left work, so
 * until then the import's page does not yet say that no process runs it.
 */
export async function releaseImportLease(deps: Pick<Deps, "db" | "now">, id: string, owner: string) {
  await deps.db.catalogImport.updateMany({ where: { id, leaseOwner: owner }, data: { leaseOwner: null, leaseUntil: new Date(deps.now().getTime() + NEXT_RUN_GRACE_MS) } });
}

/** The next import with work left that no live run holds, oldest first. */
export async function nextImportWithWork(deps: Pick<Deps, "db" | "now">, skip: string[]) {
  const now = deps.now();
  return deps.db.catalogImport.findFirst({
    where: {
      id: { notIn: skip },
      AND: [
        { OR: [{ leaseOwner: null }, { leaseUntil: { lt: now } }] },
        {
          OR: [
            { status: { in: ACTIVE } },
            { status: { in: FINAL }, cleaned: false },
            { status: "checked", cleaned: false, OR: [{ finishedAt: { not: null } }, { mode: "apply" }, { checkedAt: { lt: new Date(now.getTime() - CONFIRM_TTL_MS) } }] },
          ],
        },
      ],
    },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { id: true },
  });
}

/**
 * Works on one import until nothing is left to do now (it settled, or waits
 * for the admin's confirmation), the deadline passes or the signal aborts.
 * Holds the import's lease meanwhile and releases it at the end.
 */
export async function driveImport(deps: Deps, id: string, options: DriveOptions): Promise<DriveResult> {
  const taken = options.leased ? "taken" : await takeImportLease(deps, id, options.owner);
  if (!taken) return { ran: false };
  const run = new ImportRun(deps, id, options);
  let lost = false;
  try {
    if (taken === "taken-over") await run.afterTakeover();
    return { ran: true, settled: await run.work() };
  } catch (err) {
    if (err instanceof LeaseLost) {
      lost = true;
      return { ran: true, settled: false };
    }
    throw err;
  } finally {
    if (!lost) await releaseImportLease(deps, id, options.owner);
  }
}

/**
 * Keeps the run from holding the event loop: yields (a macrotask, so the
 * poll phase reads and answers waiting requests) between queries and after
 * SLICE_MS of work, pauses after each chunk in proportion to the busy time,
 * and sizes write transactions so one takes about its target.
 *
 * The engines differ in what "busy" is. SQLite runs its queries on this
 * thread, so the wall time between yields is all busy, and a transaction
 * holds the event loop and the one write lock. PostgreSQL queries run in the
 * server while the event loop answers other requests, so only this process's
 * CPU time counts, and a transaction holds just the row locks of the few
 * products it writes: it may be longer (fewer round trips per product).
 */
class Pacer {
  private readonly wall: boolean;
  private readonly targetTxMs: number;
  private since = 0;
  private cpuSince = process.cpuUsage();
  private busy = 0;
  private readonly sizes = new Map<string, number>();

  constructor(engine: Dialect) {
    this.wall = engine === "sqlite";
    this.targetTxMs = engine === "sqlite" ? TARGET_TX_MS : TARGET_TX_MS_POSTGRES;
    this.mark();
  }

  private mark() {
    this.since = performance.now();
    this.cpuSince = process.cpuUsage();
  }

  private elapsed(): number {
    if (this.wall) return performance.now() - this.since;
    const cpu = process.cpuUsage(this.cpuSince);
    return (cpu.user + cpu.system) / 1000;
  }

  readonly yield = async () => {
    this.busy += this.elapsed();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.mark();
  };

  readonly breathe = async () => {
    if (this.elapsed() >= SLICE_MS) await this.yield();
  };

  async pause() {
    this.busy += this.elapsed();
    const ms = Math.max(1, Math.round(this.busy * PAUSE_RATIO));
    this.busy = 0;
    await sleep(ms);
    this.mark();
  }

  /** Transactions of `phase` hold this many items; grows while they are quick, shrinks in proportion when slow. */
  txSize(phase: string): number {
    return this.sizes.get(phase) ?? 2;
  }

  txTook(phase: string, items: number, ms: number) {
    const next = ms <= this.targetTxMs ? Math.ceil(items * 1.5) : Math.floor((items * this.targetTxMs) / ms);
    this.sizes.set(phase, Math.max(1, Math.min(100, next)));
  }
}

class ImportRun {
  private readonly pacer: Pacer;
  private reader: CsvFormatReader | null = null;
  private header: string[] = [];
  private cancelCheckedAt = 0;
  private progressAt = 0;

  constructor(
    private readonly deps: Deps,
    private readonly id: string,
    private readonly options: DriveOptions,
  ) {
    this.pacer = new Pacer(dialectOf(deps.db));
  }

  private get db() {
    return this.deps.db;
  }

  private stopping(): boolean {
    return !!this.options.signal?.aborted || (this.options.deadline !== undefined && performance.now() > this.options.deadline);
  }

  /** The lease check every chunk starts with: the chunk writes only while this run still holds the import. */
  private async guard(tx: Tx, data: Prisma.CatalogImportUpdateManyMutationInput = {}) {
    const kept = await tx.catalogImport.updateMany({
      where: { id: this.id, leaseOwner: this.options.owner },
      data: { ...data, leaseUntil: new Date(this.deps.now().getTime() + IMPORT_LEASE_MS) },
    });
    if (kept.count === 0) throw new LeaseLost();
  }

  private async setStatus(data: Prisma.CatalogImportUpdateManyMutationInput) {
    await this.db.$transaction((tx) => this.guard(tx, data), TX);
  }

  private async chunkDone(phase: ImportChunkEvent["phase"], done: number, total: number) {
    await this.options.hooks?.afterChunk?.({ importId: this.id, phase, done, total });
    if (this.options.onProgress && performance.now() - this.progressAt > 1000) {
      this.progressAt = performance.now();
      const row = await loadImport(this.deps, this.id);
      if (row) await this.options.onProgress(row);
    }
    await this.pacer.pause();
  }

  private async cancelRequested(force = false): Promise<boolean> {
    if (!force && performance.now() - this.cancelCheckedAt < 500) return false;
    this.cancelCheckedAt = performance.now();
    const row = await this.db.catalogImport.findUnique({ where: { id: this.id }, select: { cancelRequested: true } });
    return !!row?.cancelRequested;
  }

  /** A run that died mid-import is resumed; one that died again and again is given up (rolled back if it wrote anything). */
  async afterTakeover() {
    const row = await loadImport(this.deps, this.id);
    if (!row || row.takeovers <= MAX_TAKEOVERS) return;
    const message = `The import was interrupted ${row.takeovers} times (its process stopped mid-import) and was not resumed again.`;
    if (row.status === "applying" || row.status === "publishing") await this.setStatus({ status: "rolling_back", errorCode: "stopped", error: message });
    else if (["queued", "reading", "planning"].includes(row.status)) await this.setStatus({ status: "failed", errorCode: "stopped", error: message, finishedAt: this.deps.now() });
  }

  /** Runs phases until the import needs nothing more now; true when it settled (or waits for a person). */
  async work(): Promise<boolean> {
    for (;;) {
      if (this.stopping()) return false;
      const row = await loadImport(this.deps, this.id);
      if (!row) return true;
      if (row.header && !this.reader) this.useHeader(JSON.parse(row.header) as string[], row.headerLine ?? 1);
      try {
        switch (row.status) {
          case "queued":
          case "reading":
            if (await this.cancelRequested(true)) await this.setStatus({ status: "cancelled", errorCode: "cancelled", error: "Cancelled before it was checked.", finishedAt: this.deps.now() });
            else await this.read(row);
            break;
          case "planning":
            if (await this.cancelRequested(true)) await this.setStatus({ status: "cancelled", errorCode: "cancelled", error: "Cancelled before it was checked.", finishedAt: this.deps.now() });
            else await this.plan(row);
            break;
          case "checked":
            if (row.mode === "apply" && row.valid) await this.setStatus({ status: "applying", cursor: -1 });
            else if (awaitsConfirmation(row, this.deps.now())) return true;
            else if (!row.cleaned) await this.cleanup(row);
            else return true;
            break;
          case "applying":
            if (await this.cancelRequested(true)) await this.setStatus({ status: "rolling_back", errorCode: "cancelled", error: "Cancelled while it was being applied; everything it wrote was undone." });
            else await this.apply(row);
            break;
          case "publishing":
            await this.publish(row);
            break;
          case "rolling_back":
            await this.rollBack(row);
            break;
          default:
            if (!row.cleaned) await this.cleanup(row);
            else return true;
        }
      } catch (err) {
        if (err instanceof LeaseLost) throw err;
        await this.failed(row, err);
        if (row.status === "rolling_back") return false;
      }
    }
  }

  /** An unexpected error (or an injected one): a check fails, an apply is rolled back, a roll-back is retried next run. */
  private async failed(row: ImportRow, err: unknown) {
    const message = err instanceof AppError ? err.message : err instanceof Error ? err.message : String(err);
    const error = `The import stopped on an error: ${message.slice(0, 500)}`;
    // The write path refusing a product (a SKU or handle taken in the instant
    // between planning and writing) is a change of the shop, not a fault.
    const refused = err instanceof AppError && err.status < 500;
    if (!refused) this.deps.logger.error({ err, importId: this.id, status: row.status }, "catalog import step failed");
    if (row.status === "applying" || row.status === "publishing") {
      await this.setStatus(refused ? { status: "rolling_back", errorCode: "changed", error: `The shop changed since the dry run: ${message.slice(0, 500)}` } : { status: "rolling_back", errorCode: "error", error });
    } else if (row.status === "rolling_back") await this.setStatus({ error: `${row.error ?? ""} Undoing it failed once (${message.slice(0, 200)}); it is tried again.`.trim() });
    else if (!FINAL.includes(row.status)) await this.setStatus({ status: "failed", errorCode: "error", error, finishedAt: this.deps.now() });
    else throw err;
  }

  private useHeader(header: string[], headerLine: number) {
    this.header = header;
    this.reader = formatFor(header, headerLine, this.deps.shop.currency);
  }

  private place(column: string | null) {
    return column === null ? -1 : this.header.indexOf(column);
  }

  private notes(kind: "problem" | "warning", list: CsvProblem[], firstSeq: number): Prisma.CatalogImportNoteCreateManyInput[] {
    return list.map((p, i) => ({ importId: this.id, kind, line: p.line, column: p.column, place: this.place(p.column), seq: firstSeq + i, message: p.message }));
  }

  /** Ends the check with the file's problems (nothing of it can be applied). `only`: these replace any noted so far. */
  private async invalid(row: ImportRow, problems: CsvProblem[], only = false) {
    const now = this.deps.now();
    await this.db.$transaction(async (tx) => {
      await this.guard(tx, { status: "checked", valid: false, checkedAt: now, finishedAt: now, problemCount: only ? problems.length : { increment: problems.length }, ...(only ? { warningCount: 0 } : {}), noteSeq: { increment: problems.length } });
      if (only) await tx.catalogImportNote.deleteMany({ where: { importId: this.id } });
      await tx.catalogImportNote.createMany({ data: this.notes("problem", problems, row.noteSeq) });
    }, TX);
  }

  // ───────────── reading: stream-parse the file, stage its rows ─────────────

  private async read(row: ImportRow) {
    const file = await this.db.catalogImport.findUniqueOrThrow({ where: { id: this.id }, select: { fileBytes: true } });
    const bytes = Buffer.from(file.fileBytes.buffer, file.fileBytes.byteOffset, file.fileBytes.byteLength);
    let from = { offset: row.readOffset, feeds: row.readFeeds };
    let headerLine = row.headerLine ?? 1;

    if (row.header === null) {
      const check = checkCsvBytes(bytes);
      if (!check.ok) return this.invalid(row, check.problems, true);
      let head: StreamedRecord | undefined;
      const records = streamCsvRecords(bytes, { offset: check.bodyStart, feeds: 0 });
      try {
        const first = await records.next();
        head = first.done ? undefined : first.value;
      } catch (err) {
        if (err instanceof CsvStreamError) return this.invalid(row, [{ line: err.line, column: null, message: err.message }], true);
        throw err;
      } finally {
        await records.return(undefined);
      }
      if (!head) return this.invalid(row, [{ line: 1, column: null, message: "The file is empty." }], true);
      const header = head.fields.map((h) => h.trim());
      headerLine = head.line;
      this.useHeader(header, headerLine);
      if (!this.reader) return this.invalid(row, [{ line: headerLine, column: null, message: UNKNOWN_HEADER_MESSAGE }], true);
      const checked = this.reader.header;
      if (!checked.usable) return this.invalid(row, checked.problems, true);
      const notes = [...this.notes("problem", checked.problems, 0), ...this.notes("warning", checked.warnings, checked.problems.length)];
      await this.db.$transaction(async (tx) => {
        await this.guard(tx, {
          status: "reading",
          format: this.reader!.format,
          header: JSON.stringify(header),
          headerLine,
          readOffset: head.end,
          readFeeds: head.feedsAtEnd,
          startedAt: this.deps.now(),
          problemCount: checked.problems.length,
          warningCount: checked.warnings.length,
          noteSeq: notes.length,
        });
        await tx.catalogImportNote.createMany({ data: notes });
      }, TX);
      from = { offset: head.end, feeds: head.feedsAtEnd };
      row = { ...row, noteSeq: notes.length };
    }
    const reader = this.reader!;

    let ordinal = row.rowsRead;
    const records = streamCsvRecords(bytes, from);
    try {
      for (;;) {
        if (this.stopping()) return;
        const batch: StreamedRecord[] = [];
        let end = false;
        while (batch.length < READ_BATCH) {
          const next = await records.next();
          if (next.done) {
            end = true;
            break;
          }
          batch.push(next.value);
          await this.pacer.breathe();
        }
        if (batch.length) await this.stage(reader, batch, ordinal);
        ordinal += batch.length;
        if (end) {
          if (ordinal === 0) return this.invalid(row, [{ line: headerLine + 1, column: null, message: "The file has a header but no rows; add one row per variant." }], true);
          await this.setStatus({ status: "planning", cursor: -1 });
          return;
        }
        await this.chunkDone("read", ordinal, 0);
        if (await this.cancelRequested()) return;
      }
    } catch (err) {
      if (!(err instanceof CsvStreamError)) throw err;
      const column = err.line === headerLine || err.fieldIndex === null ? null : (this.header[err.fieldIndex] ?? null);
      return this.invalid(row, [{ line: err.line, column, message: err.message }], true);
    } finally {
      await records.return(undefined);
    }
  }

  /** Stages rows; each gets its product's place in the file (the first row of its handle). Returns how many products are new. */
  private async stage(reader: CsvFormatReader, batch: StreamedRecord[], firstOrdinal: number): Promise<number> {
    const handles = batch.map((r) => reader.handleOf(r.fields));
    const known = await inChunks([...new Set(handles)], (chunk) =>
      this.db.catalogImportRow.findMany({ where: { importId: this.id, handle: { in: chunk }, first: true }, select: { handle: true, seq: true }, orderBy: { ordinal: "asc" } }),
    );
    await this.pacer.yield();
    const seqOf = new Map(known.map((k) => [k.handle, k.seq]));
    let added = 0;
    const data = batch.map((r, i) => {
      const ordinal = firstOrdinal + i;
      let seq = seqOf.get(handles[i]!);
      const first = seq === undefined;
      if (seq === undefined) {
        seq = ordinal;
        seqOf.set(handles[i]!, seq);
        added++;
      }
      return { importId: this.id, ordinal, line: r.line, handle: handles[i]!, seq, first, fields: JSON.stringify(r.fields) };
    });
    const last = batch[batch.length - 1]!;
    await this.db.$transaction(async (tx) => {
      await this.guard(tx, { status: "reading", readOffset: last.end, readFeeds: last.feedsAtEnd, rowsRead: { increment: batch.length }, productsTotal: { increment: added } });
      await tx.catalogImportRow.createMany({ data });
    }, TX);
    await this.pacer.yield();
    return added;
  }

  // ───────────── planning: the dry run, chunk by chunk ─────────────

  private async rowsOfProducts(seqs: number[]) {
    const rows = await this.db.catalogImportRow.findMany({ where: { importId: this.id, seq: { in: seqs } }, orderBy: [{ seq: "asc" }, { ordinal: "asc" }] });
    return rows.map((r) => ({ line: r.line, fields: JSON.parse(r.fields) as string[], handle: r.handle, seq: r.seq }));
  }

  private async existingKeys(kind: string, keys: string[]) {
    const found = await inChunks(keys, (chunk) =>
      this.db.catalogImportKey.findMany({ where: { importId: this.id, kind, key: { in: chunk } }, select: { key: true, line: true }, orderBy: { key: "asc" } }),
    );
    return new Map(found.map((k) => [k.key, k.line]));
  }

  private async plan(row: ImportRow) {
    const reader = this.reader!;
    const skuColumn = reader.columns.variant.sku ?? reader.columns.handle;
    let { cursor, noteSeq, productsChecked } = row;
    let digest = row.digest ?? "";
    for (;;) {
      if (this.stopping()) return;
      const { yield: pass, breathe } = this.pacer;
      const firsts = await this.db.catalogImportRow.findMany({
        where: { importId: this.id, first: true, seq: { gt: cursor } },
        orderBy: { seq: "asc" },
        take: PLAN_BATCH,
        select: { seq: true },
      });
      if (firsts.length === 0) return this.endCheck(row, digest);
      await pass();
      const rows = await this.rowsOfProducts(firsts.map((f) => f.seq));
      await pass();
      const seqOf = new Map(rows.map((r) => [r.handle, r.seq]));
      const mapped = reader.map(rows);
      await pass();
      const problems: CsvProblem[] = [...mapped.problems];
      const keys: Prisma.CatalogImportKeyCreateManyInput[] = [];

      // A SKU names one variant in the whole shop, so one row of the file at most.
      const variants = mapped.products.flatMap((p) => p.variants.filter((v) => v.sku).map((v) => ({ key: v.sku.toUpperCase(), sku: v.sku, line: v.line })));
      const seenSku = await this.existingKeys("sku", [...new Set(variants.map((v) => v.key))]);
      await pass();
      for (const v of variants) {
        const seen = seenSku.get(v.key);
        if (seen !== undefined) problems.push({ line: v.line, column: skuColumn, message: `SKU ${v.sku} is also on line ${seen}; every variant needs its own SKU.` });
        else {
          seenSku.set(v.key, v.line);
          keys.push({ importId: this.id, kind: "sku", key: v.key, line: v.line });
        }
      }

      const planned = await planProducts(this.db, reader.columns, mapped.products, breathe);
      await pass();
      problems.push(...planned.problems);
      const warnings = [...(await this.oncePerFile(mapped.warnings, keys)), ...planned.warnings];
      await pass();
      const existing = new Set((await inChunks(planned.collections, (chunk) => this.db.collection.findMany({ where: { slug: { in: chunk } }, select: { slug: true }, orderBy: { id: "asc" } }))).map((c) => c.slug));
      const missing = planned.collections.filter((s) => !existing.has(s));
      await pass();
      const noted = await this.existingKeys("collection", missing);
      await pass();
      for (const slug of missing) if (!noted.has(slug)) keys.push({ importId: this.id, kind: "collection", key: slug, line: 0 });

      const plans = planned.items.map((i) => i.plan);
      digest = createHash("sha256").update(digest).update(JSON.stringify(plans)).digest("base64url");
      const listed = dedupeProblems(problems);
      const notes = [...this.notes("problem", listed, noteSeq), ...this.notes("warning", warnings, noteSeq + listed.length)];
      const count = (a: ImportProductPlan["action"]) => plans.filter((p) => p.action === a).length;
      const sum = (k: "create" | "update" | "archive") => plans.reduce((n, p) => n + p.variants[k], 0);
      cursor = firsts[firsts.length - 1]!.seq;
      productsChecked += firsts.length;
      await this.db.$transaction(async (tx) => {
        await this.guard(tx, {
          cursor,
          productsChecked: { increment: firsts.length },
          createProducts: { increment: count("create") },
          updateProducts: { increment: count("update") },
          keepProducts: { increment: count("unchanged") },
          createVariants: { increment: sum("create") },
          updateVariants: { increment: sum("update") },
          archiveVariants: { increment: sum("archive") },
          problemCount: { increment: listed.length },
          warningCount: { increment: warnings.length },
          noteSeq: { increment: notes.length },
          digest,
        });
        await tx.catalogImportItem.createMany({
          data: plans.map((p) => ({ importId: this.id, seq: seqOf.get(p.handle)!, handle: p.handle, line: p.line, title: p.title, action: p.action, vCreate: p.variants.create, vUpdate: p.variants.update, vArchive: p.variants.archive })),
        });
        if (notes.length) await tx.catalogImportNote.createMany({ data: notes });
        if (keys.length) await tx.catalogImportKey.createMany({ data: keys });
      }, TX);
      noteSeq += notes.length;
      await this.chunkDone("plan", productsChecked, row.productsTotal);
      if (await this.cancelRequested()) return;
    }
  }

  /** Warnings that name the same thing on many rows (an image URL) are given once per file, at its first row. */
  private async oncePerFile(warnings: MappedNote[], keys: Prisma.CatalogImportKeyCreateManyInput[]): Promise<CsvProblem[]> {
    const once = warnings.filter((w) => w.once);
    if (once.length === 0) return warnings;
    const seen = new Set<string>();
    for (const kind of new Set(once.map((w) => w.once!.kind))) {
      for (const key of (await this.existingKeys(kind, [...new Set(once.filter((w) => w.once!.kind === kind).map((w) => w.once!.key))])).keys()) seen.add(`${kind}\u0000${key}`);
    }
    const out: CsvProblem[] = [];
    for (const { once: o, ...w } of warnings) {
      if (o) {
        const id = `${o.kind}\u0000${o.key}`;
        if (seen.has(id)) continue;
        seen.add(id);
        keys.push({ importId: this.id, kind: o.kind, key: o.key, line: w.line });
      }
      out.push(w);
    }
    return out;
  }

  private async endCheck(row: ImportRow, chain: string) {
    const collections = await this.collectionsToCreate();
    const digest = createHash("sha256").update(chain).update(JSON.stringify(collections)).digest("base64url");
    const fresh = (await loadImport(this.deps, this.id))!;
    const valid = fresh.problemCount === 0;
    const now = this.deps.now();
    const appliable = valid && fresh.createProducts + fresh.updateProducts > 0;
    if (row.mode === "apply" && valid) await this.setStatus({ status: "applying", cursor: -1, valid, digest, checkedAt: now });
    else await this.setStatus({ status: "checked", valid, digest, checkedAt: now, cursor: -1, ...(row.mode === "apply" || !appliable ? { finishedAt: now } : {}) });
  }

  async collectionsToCreate(): Promise<string[]> {
    const keys = await this.db.catalogImportKey.findMany({ where: { importId: this.id, kind: "collection" }, select: { key: true }, orderBy: { key: "asc" } });
    return keys.map((k) => k.key);
  }

  // ───────────── applying: plan again and write, chunk by chunk, with an undo journal ─────────────

  private async conflict(tx: Tx, problem: CsvProblem) {
    await this.guard(tx, { status: "rolling_back", errorCode: "changed", error: problem.message, errorLine: problem.line, errorColumn: problem.column });
  }

  private async apply(row: ImportRow) {
    const reader = this.reader!;
    if (!row.collectionsDone) {
      const slugs = await this.collectionsToCreate();
      const conflicted = await this.db.$transaction(async (tx) => {
        await this.guard(tx);
        const taken = await tx.collection.findMany({ where: { slug: { in: slugs } }, select: { slug: true }, orderBy: { slug: "asc" } });
        if (taken.length) {
          await this.conflict(tx, { line: row.headerLine ?? 1, column: reader.columns.product.collections ?? null, message: `The shop changed since the dry run: the collection "${taken[0]!.slug}" was created meanwhile.` });
          return true;
        }
        const ids: string[] = [];
        for (const slug of slugs) ids.push((await tx.collection.create({ data: { slug, title: titleFromSlug(slug) } })).id);
        await this.guard(tx, { collectionsDone: true, createdCollections: JSON.stringify(ids) });
        return false;
      }, TX);
      if (conflicted) return;
    }

    let { cursor, productsPassed } = row;
    for (;;) {
      if (this.stopping()) return;
      if (await this.cancelRequested()) return;
      const next = await this.db.catalogImportItem.findMany({ where: { importId: this.id, seq: { gt: cursor } }, orderBy: { seq: "asc" }, take: PLAN_BATCH });
      if (next.length === 0) {
        await this.setStatus({ status: "publishing" });
        return;
      }
      await this.pacer.yield();
      const firstWrite = next.findIndex((i) => i.action !== "unchanged");
      // Products the dry run left unchanged are checked again, outside any
      // transaction (nothing is written for them): one edited since would
      // make the result differ from the file, so it stops the import.
      const items = firstWrite === 0 ? next.slice(0, this.pacer.txSize("apply")) : firstWrite === -1 ? next : next.slice(0, firstWrite);
      const mapped = reader.map(await this.rowsOfProducts(items.map((i) => i.seq)));
      await this.pacer.yield();
      const last = items[items.length - 1]!.seq;
      if (firstWrite !== 0) {
        const planned = await planProducts(this.db, reader.columns, mapped.products, this.pacer.breathe);
        const changed = this.changedSinceCheck(items, planned, mapped);
        await this.db.$transaction(async (tx) => {
          if (changed) await this.conflict(tx, changed);
          else await this.guard(tx, { cursor: last, productsPassed: { increment: items.length } });
        }, TX);
        if (changed) return;
      } else {
        const started = performance.now();
        const outcome = await this.db.$transaction(async (tx) => {
          // No lease check first: this transaction never yields, so the check
          // at its end (with the cursor) decides; a lost lease rolls it all back.
          // The same products, planned again against the catalog as it is now:
          // only what the dry run showed is written (the admin applies what it previewed).
          const planned = await planProducts(tx, reader.columns, mapped.products);
          const changed = this.changedSinceCheck(items, planned, mapped);
          if (changed) {
            await this.conflict(tx, changed);
            return "changed";
          }
          const now = this.deps.now();
          const journal: Prisma.CatalogImportItemCreateManyInput[] = [];
          for (const item of items) {
            if (item.action === "unchanged") continue;
            const p = planned.items.find((x) => x.plan.handle === item.handle)!;
            // A new product is written hidden (a draft) and shown with all the others in one statement at the end.
            const publishAs = !p.existing && p.input.status === "active" ? "active" : null;
            const product = await saveProductInTx(tx, this.deps, publishAs ? { ...p.input, status: "draft" } : p.input, p.existing?.id);
            journal.push({ ...item, productId: product.id, writtenAt: now, before: p.existing ? encodeRows(rowsOf(p.existing)) : null, after: null, publishAs });
          }
          // How the updated products look now, for the roll-back to tell a later edit from its own write.
          const after = await loadProductsRows(tx, journal.filter((j) => j.before).map((j) => j.productId!));
          for (const j of journal) if (j.before) j.after = encodeRows(after.get(j.productId!)!);
          // The chunk's journal in two statements rather than one per product.
          await tx.catalogImportItem.deleteMany({ where: { importId: this.id, seq: { in: journal.map((j) => j.seq) } } });
          await tx.catalogImportItem.createMany({ data: journal });
          await this.guard(tx, { cursor: last, productsPassed: { increment: items.length }, productsWritten: { increment: journal.length } });
          return "written";
        }, TX);
        this.pacer.txTook("apply", items.length, performance.now() - started);
        if (outcome === "changed") return;
      }
      cursor = last;
      productsPassed += items.length;
      await this.chunkDone("apply", productsPassed, row.productsChecked);
    }
  }

  /** The first product whose plan now differs from the dry run's (as a problem to report), or null. */
  private changedSinceCheck(
    items: { seq: number; handle: string; title: string; line: number; action: string; vCreate: number; vUpdate: number; vArchive: number }[],
    planned: Awaited<ReturnType<typeof planProducts>>,
    mapped: ReturnType<CsvFormatReader["map"]>,
  ): CsvProblem | null {
    const columns = this.reader!.columns;
    for (const item of items) {
      const now = planned.items.find((p) => p.plan.handle === item.handle);
      const parsed = mapped.products.find((p) => p.handle === item.handle);
      // The file had no problems when it was checked: one now (a SKU someone took meanwhile) is a change of the shop.
      const lines = parsed ? linesOf(parsed) : new Set([item.line]);
      const problem = [...mapped.problems, ...planned.problems].find((p) => lines.has(p.line));
      if (problem) return { ...problem, message: `The shop changed since the dry run: ${problem.message}` };
      if (!now) return { line: item.line, column: columns.handle, message: `The shop changed since the dry run: "${item.handle}" cannot be written any more.` };
      if (planKey(now.plan) !== planKey(planOf(item))) {
        return { line: item.line, column: columns.handle, message: `The shop changed since the dry run: "${item.handle}" would now be ${describePlan(now.plan)}, not ${describePlan(planOf(item))}.` };
      }
    }
    return null;
  }

  /**
   * The end of an apply, in one transaction: every new product the file
   * makes active is shown at once (one conditional UPDATE over the products
   * this import created as drafts), the audit row is written, and the import
   * is applied. Nothing after this is undone.
   */
  private async publish(row: ImportRow) {
    const now = this.deps.now();
    const file = await this.db.catalogImport.findUniqueOrThrow({ where: { id: this.id }, select: { fileSha256: true } });
    const collections = await this.collectionsToCreate();
    await this.db.$transaction(async (tx) => {
      await this.guard(tx);
      await tx.$executeRaw`UPDATE "Product" SET "status" = 'active', "updatedAt" = ${now}
        WHERE "status" = 'draft' AND "id" IN (SELECT "productId" FROM "CatalogImportItem" WHERE "importId" = ${this.id} AND "publishAs" = 'active')`;
      await recordAudit(tx, {
        actor: { type: row.actorType as Actor["type"], id: row.actorId },
        action: "catalog.import",
        entityType: "catalog",
        entityId: this.id,
        details: {
          format: row.format,
          fileName: row.fileName,
          sha256: file.fileSha256,
          rows: row.rowsRead,
          summary: {
            products: { create: row.createProducts, update: row.updateProducts, unchanged: row.keepProducts },
            variants: { create: row.createVariants, update: row.updateVariants, archive: row.archiveVariants },
            collectionsToCreate: collections,
          },
        },
      });
      await this.guard(tx, { status: "applied", finishedAt: now });
    }, TX);
  }

  // ───────────── rolling back: the journal, newest first ─────────────

  private async rollBack(row: ImportRow) {
    let undone = row.productsUndone + row.productsKept;
    for (;;) {
      if (this.stopping()) return;
      const items = await this.db.catalogImportItem.findMany({
        where: { importId: this.id, writtenAt: { not: null }, undo: null },
        orderBy: { seq: "desc" },
        take: this.pacer.txSize("undo"),
      });
      await this.pacer.yield();
      const started = performance.now();
      if (items.length === 0) {
        await this.db.$transaction(async (tx) => {
          await this.guard(tx);
          for (const id of JSON.parse(row.createdCollections) as string[]) {
            // Only a collection nothing uses now: one someone filled or linked meanwhile stays.
            const used = (await tx.collectionProduct.count({ where: { collectionId: id } })) + (await tx.couponCollection.count({ where: { collectionId: id } })) + (await tx.shortLink.count({ where: { collectionId: id } }));
            if (used === 0) await tx.collection.deleteMany({ where: { id } });
          }
          await this.guard(tx, { status: "rolled_back", finishedAt: this.deps.now() });
        }, TX);
        return;
      }
      await this.db.$transaction(async (tx) => {
        const outcomes = { undone: [] as number[], kept: [] as number[] };
        for (const item of items) outcomes[await this.undoItem(tx, item)].push(item.seq);
        for (const [undo, seqs] of Object.entries(outcomes)) {
          if (seqs.length) await tx.catalogImportItem.updateMany({ where: { importId: this.id, seq: { in: seqs } }, data: { undo } });
        }
        // The lease check comes last (the transaction never yields): a lost lease undoes the chunk.
        await this.guard(tx, { productsUndone: { increment: outcomes.undone.length }, productsKept: { increment: outcomes.kept.length } });
      }, TX);
      this.pacer.txTook("undo", items.length, performance.now() - started);
      undone += items.length;
      await this.chunkDone("undo", undone, row.productsWritten);
    }
  }

  private async undoItem(tx: Tx, item: { productId: string | null; before: string | null; after: string | null }): Promise<"undone" | "kept"> {
    if (!item.productId) return "undone";
    // A product the import created was never shown to shoppers (it waited as a draft for the end): it goes.
    if (!item.before) {
      await tx.product.deleteMany({ where: { id: item.productId } });
      return "undone";
    }
    const before = decodeRows(item.before);
    const after = decodeRows(item.after!);
    const current = await loadProductRows(tx, item.productId);
    // Edited since the import wrote it: that later edit is someone's intent, so it stays (and is listed).
    if (!current || !sameProduct(current, after)) return "kept";
    await restoreProduct(tx, this.deps, { before, after, current });
    return "undone";
  }

  // ───────────── cleanup: staging rows and the journal go once they can no longer be needed ─────────────

  private async cleanup(row: ImportRow) {
    const BATCH = 500;
    for (;;) {
      if (this.stopping()) return;
      await this.pacer.yield();
      const rows = await this.db.catalogImportRow.findMany({ where: { importId: this.id }, select: { ordinal: true }, orderBy: { ordinal: "asc" }, take: 1 });
      if (rows.length) {
        await this.db.catalogImportRow.deleteMany({ where: { importId: this.id, ordinal: { lt: rows[0]!.ordinal + BATCH } } });
        await this.chunkDone("cleanup", 0, 0);
        continue;
      }
      const keys = await this.db.catalogImportKey.findMany({ where: { importId: this.id, kind: { not: "collection" } }, select: { kind: true, key: true }, orderBy: [{ kind: "asc" }, { key: "asc" }], take: BATCH });
      if (keys.length) {
        for (const kind of new Set(keys.map((k) => k.kind))) {
          await this.db.catalogImportKey.deleteMany({ where: { importId: this.id, kind, key: { in: keys.filter((k) => k.kind === kind).map((k) => k.key) } } });
        }
        await this.chunkDone("cleanup", 0, 0);
        continue;
      }
      const journal = await this.db.catalogImportItem.findMany({ where: { importId: this.id, OR: [{ before: { not: null } }, { after: { not: null } }] }, select: { seq: true }, orderBy: { seq: "asc" }, take: 200 });
      if (journal.length) {
        await this.db.catalogImportItem.updateMany({ where: { importId: this.id, seq: { in: journal.map((j) => j.seq) } }, data: { before: null, after: null } });
        await this.chunkDone("cleanup", 0, 0);
        continue;
      }
      // The file stays only where "Check again" may need it: after a roll-back.
      await this.setStatus({ cleaned: true, ...(row.status === "rolled_back" ? {} : { fileBytes: new Uint8Array(0) }) });
      return;
    }
  }
}

const planOf = (item: { handle: string; title: string; line: number; action: string; vCreate: number; vUpdate: number; vArchive: number }): ImportProductPlan => ({
  handle: item.handle,
  title: item.title,
  line: item.line,
  action: item.action as ImportProductPlan["action"],
  variants: { create: item.vCreate, update: item.vUpdate, archive: item.vArchive },
});

const planKey = (p: ImportProductPlan) => JSON.stringify([p.handle, p.title, p.line, p.action, p.variants.create, p.variants.update, p.variants.archive]);

function describePlan(p: ImportProductPlan): string {
  if (p.action === "unchanged") return "unchanged";
  return `${p.action === "create" ? "created" : "updated"} (variants ${p.variants.create} new, ${p.variants.update} changed, ${p.variants.archive} archived)`;
}

/** "summer-sale" → "Summer sale": a readable title for a collection the import creates. */
export function titleFromSlug(slug: string): string {
  const words = slug.replace(/-/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
