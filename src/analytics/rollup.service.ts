import { Prisma } from "../generated/prisma/client.js";
import type { Deps } from "../deps.js";
import type { JobContext } from "../jobs/job.js";
import { aggregateWindow, dayWindow, METRICS, type Row } from "./aggregate.js";
import { ancestorsOf, dayKey, dayOf, MAX_LEVEL, startOfDay } from "./days.js";
import { SALT_PREFIX } from "./events.js";

/**
 * The daily roll-up (see README.md beside this file).
 *
 * `rollupDay` folds one closed UTC day into level-0 rows, then rebuilds the
 * ten blocks above it (2, 4, … 1,024 days) each from its two halves. Every
 * row it writes is recomputed from its sources, never incremented, so
 * running a day again gives the same rows. One transaction per day.
 */
export interface AnalyticsSettings {
  /** Raw events are deleted after this many days (once their day is rolled up). */
  retentionDays: number;
  /** Roll-ups are kept this long; the dashboard refuses ranges that start earlier. */
  rollupRetentionDays: number;
}

export const DEFAULT_ANALYTICS_SETTINGS: AnalyticsSettings = { retentionDays: 90, rollupRetentionDays: 730 };

export function analyticsSettings(deps: Pick<Deps, "analytics">): AnalyticsSettings {
  return { ...DEFAULT_ANALYTICS_SETTINGS, ...deps.analytics };
}

/** A day is rolled up once it has been over for this long, so events still in a writer's buffer at midnight are in it. */
export const CLOSE_GRACE_MS = 10 * 60_000;
/** Days one run folds at most; the next run continues (a new install back-filling a year of orders). */
export const DAYS_PER_RUN = 31;
const DELETE_CHUNK = 5_000;
/** Rows per INSERT: 22 values each, well under SQLite's and PostgreSQL's parameter limits. */
const INSERT_CHUNK = 200;
const DELETE_CHUNKS_PER_RUN = 40;

export const ROLLED_THROUGH_KEY = "analytics.rolledThrough";

const COLUMNS = Prisma.raw(METRICS.map((m) => `"${m}"`).join(", "));
const SUMS = Prisma.raw(METRICS.map((m) => `SUM("${m}")`).join(", "));

const nonZero = (r: Row) => METRICS.some((m) => r.metrics[m] !== 0);

export async function rollupDay(deps: Pick<Deps, "db" | "shop" | "now">, day: number): Promise<{ day: number; rows: number; events: number }> {
  // Cleared first: events flushed for this day while it is being folded mark it again, and the next run folds it again.
  await deps.db.analyticsDay.updateMany({ where: { day }, data: { dirty: false } });
  const { rows, events } = await aggregateWindow(deps, dayWindow(day));
  const data = [...rows.values()].filter(nonZero);
  await deps.db.$transaction(async (tx) => {
    await tx.analyticsRollup.deleteMany({ where: { level: 0, startDay: day } });
    // Multi-row INSERTs: Prisma's createMany costs about a millisecond per row here.
    for (let i = 0; i < data.length; i += INSERT_CHUNK) {
      const values = data.slice(i, i + INSERT_CHUNK).map((r) => Prisma.sql`(0, ${day}, ${r.dimension}, ${r.key}, ${Prisma.join(METRICS.map((m) => r.metrics[m]))})`);
      await tx.$executeRaw`INSERT INTO "AnalyticsRollup" ("level", "startDay", "dimension", "key", ${COLUMNS}) VALUES ${Prisma.join(values)}`;
    }
    for (const block of ancestorsOf(day)) {
      const half = 2 ** (block.level - 1);
      await tx.analyticsRollup.deleteMany({ where: { level: block.level, startDay: block.startDay } });
      await tx.$executeRaw`INSERT INTO "AnalyticsRollup" ("level", "startDay", "dimension", "key", ${COLUMNS})
        SELECT ${block.level}, ${block.startDay}, "dimension", "key", ${SUMS} FROM "AnalyticsRollup"
        WHERE "level" = ${block.level - 1} AND "startDay" IN (${block.startDay}, ${block.startDay + half})
        GROUP BY "dimension", "key"`;
    }
    const rolledAt = deps.now();
    await tx.analyticsDay.upsert({ where: { day }, create: { day, rolledAt, events }, update: { rolledAt, events } });
  });
  return { day, rows: data.length, events };
}

/** The last day up to which every day is rolled up, or null before the first run. */
export async function readRolledThrough(deps: Pick<Deps, "db">): Promise<number | null> {
  const row = await deps.db.setting.findUnique({ where: { key: ROLLED_THROUGH_KEY } });
  return row ? Number(row.value) : null;
}

async function writeRolledThrough(deps: Pick<Deps, "db">, day: number) {
  const value = String(day);
  await deps.db.setting.upsert({ where: { key: ROLLED_THROUGH_KEY }, create: { key: ROLLED_THROUGH_KEY, value }, update: { value } });
}

/** Today's UTC day and the last day that is closed (over for CLOSE_GRACE_MS). */
export function closedThrough(now: Date): number {
  return dayOf(new Date(now.getTime() - CLOSE_GRACE_MS)) - 1;
}

/**
 * One run of the roll-up job: days marked dirty first, then the days after
 * the last rolled one up to yesterday, at most DAYS_PER_RUN, stopping at a day
 * boundary when the signal aborts.
 */
export async function runRollup(deps: Pick<Deps, "db" | "shop" | "now" | "analytics">, ctx: JobContext, options: { maxDays?: number } = {}) {
  const maxDays = options.maxDays ?? DAYS_PER_RUN;
  const now = deps.now();
  const last = closedThrough(now);
  const floor = dayOf(now) - analyticsSettings(deps).rollupRetentionDays + 1;
  let through = await readRolledThrough(deps);
  if (through === null) {
    const first = await firstDataDay(deps);
    through = first === null ? last : Math.max(first, floor) - 1;
    await writeRolledThrough(deps, through);
  }
  const dirty = (await deps.db.analyticsDay.findMany({ where: { dirty: true, day: { lte: through, gte: floor } }, select: { day: true }, orderBy: { day: "asc" }, take: maxDays })).map((d) => d.day);
  const pending: number[] = [];
  for (let d = Math.max(through + 1, floor); d <= last && pending.length + dirty.length < maxDays; d++) pending.push(d);
  const total = dirty.length + Math.max(0, last - Math.max(through + 1, floor) + 1);
  const rolled: { day: string; rows: number; events: number }[] = [];
  for (const day of [...dirty, ...pending]) {
    if (ctx.signal.aborted) break;
    const r = await rollupDay(deps, day);
    if (day > through) {
      through = day;
      await writeRolledThrough(deps, day);
    }
    rolled.push({ day: dayKey(day), rows: r.rows, events: r.events });
    await ctx.progress(rolled.length, total, `rolled up ${dayKey(day)} (${r.events} events, ${r.rows} rows)`);
  }
  return { rolled, rolledThrough: dayKey(through), remaining: Math.max(0, total - rolled.length) };
}

async function firstDataDay(deps: Pick<Deps, "db">): Promise<number | null> {
  const [event, order] = await Promise.all([
    deps.db.analyticsEvent.findFirst({ orderBy: [{ at: "asc" }, { id: "asc" }], select: { at: true } }),
    deps.db.order.findFirst({ orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { createdAt: true } }),
  ]);
  const days = [event?.at, order?.createdAt].filter((d): d is Date => !!d).map(dayOf);
  return days.length ? Math.min(...days) : null;
}

/**
 * One run of the retention job: raw events older than the retention period
 * (only of days already rolled up, never of a dirty one), in chunks of
 * 5,000; visitor-key salts older than yesterday; roll-ups older than their
 * own retention.
 */
export async function runRetention(deps: Pick<Deps, "db" | "now" | "analytics">, ctx: JobContext) {
  const settings = analyticsSettings(deps);
  const today = dayOf(deps.now());
  const through = await readRolledThrough(deps);
  const firstDirty = await deps.db.analyticsDay.findFirst({ where: { dirty: true }, orderBy: { day: "asc" }, select: { day: true } });
  const keepFrom = Math.min(today - settings.retentionDays + 1, (through ?? -Infinity) + 1, firstDirty?.day ?? Infinity);
  const before = startOfDay(Number.isFinite(keepFrom) ? keepFrom : 0);
  const total = through === null ? 0 : await deps.db.analyticsEvent.count({ where: { at: { lt: before } } });
  let deleted = 0;
  for (let chunk = 0; through !== null && chunk < DELETE_CHUNKS_PER_RUN && !ctx.signal.aborted; chunk++) {
    const ids = await deps.db.analyticsEvent.findMany({ where: { at: { lt: before } }, select: { id: true }, orderBy: [{ at: "asc" }, { id: "asc" }], take: DELETE_CHUNK });
    if (ids.length === 0) break;
    const r = await deps.db.analyticsEvent.deleteMany({ where: { id: { in: ids.map((i) => i.id) } } });
    deleted += r.count;
    await ctx.progress(deleted, total, `deleted raw events before ${dayKey(dayOf(before))}`);
  }

  // Salts older than yesterday: with them gone, no visitor key can be recomputed from an address.
  const salts = await deps.db.setting.findMany({ where: { key: { startsWith: SALT_PREFIX } }, select: { key: true } });
  const oldSalts = salts.map((s) => s.key).filter((k) => Number(k.slice(SALT_PREFIX.length)) < today - 1);
  if (oldSalts.length) await deps.db.setting.deleteMany({ where: { key: { in: oldSalts } } });

  const rollupFloor = today - settings.rollupRetentionDays + 1;
  let rollupRows = 0;
  for (let level = 0; level <= MAX_LEVEL; level++) {
    // Blocks that end before the floor.
    const r = await deps.db.analyticsRollup.deleteMany({ where: { level, startDay: { lt: rollupFloor - 2 ** level + 1 } } });
    rollupRows += r.count;
  }
  await deps.db.analyticsDay.deleteMany({ where: { day: { lt: rollupFloor } } });
  return { deletedEvents: deleted, remainingEvents: Math.max(0, total - deleted), deletedSalts: oldSalts.length, deletedRollupRows: rollupRows, keptFrom: dayKey(dayOf(before)) };
}
