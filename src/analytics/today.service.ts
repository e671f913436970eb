import { Prisma } from "../generated/prisma/client.js";
import type { Deps } from "../deps.js";
import { aggregateWindow, dayWindow, METRICS, type Row } from "./aggregate.js";
import { dayOf } from "./days.js";
import { ROLLED_THROUGH_KEY } from "./rollup.service.js";

/**
 * Today's figures, kept folded (see README.md beside this file, "Today").
 *
 * Today cannot be a closed roll-up: it changes with every sale. Folding it
 * live on every view costs about ten GROUP BYs over the day's events, so the
 * fold is stored: level -1 rows of AnalyticsRollup for today, with the
 * fingerprint of the sources it was folded from (the number of today's
 * events, of orders created today and of orders paid today) in one Setting
 * row. Events and orders of a day are only ever added (retention deletes
 * closed, rolled-up days), so equal counts mean equal sources and the
 * stored rows are exact. A view compares the stored fingerprint with the
 * current one in the same statement that reads the roll-up state; when they
 * differ (a sale a moment ago) it folds today itself and stores the result,
 * so a sale still shows at once. The job `analytics.today` folds every minute,
 * so a quiet shop's views only read rows, and edits that change what an
 * event counts on (a post's platform) show within a minute.
 *
 * Writes are compare-and-swap on the Setting row: a fold is stored only if
 * the row still holds the value seen before folding, so a slow fold from an
 * older state never replaces a newer one, on SQLite or PostgreSQL (where the
 * UPDATE waits for a concurrent writer's commit and then matches nothing).
 */
export const TODAY_LEVEL = -1;
export const TODAY_KEY = "analytics.today";
/** Rows per INSERT: 22 values each, well under both engines' parameter limits. */
const INSERT_CHUNK = 200;
const COLUMNS = Prisma.raw(METRICS.map((m) => `"${m}"`).join(", "));
const nonZero = (r: Row) => METRICS.some((m) => r.metrics[m] !== 0);

export interface AnalyticsState {
  /** The last rolled-up day, or null before the first run. */
  rolledThrough: number | null;
  today: number;
  /** The fingerprint stored with today's rows, or null. */
  stored: string | null;
  /** Today's sources now. */
  current: string;
  /** Today's stored rows are exactly today's figures. */
  fresh: boolean;
}

/** The columns readAnalyticsState needs, for a statement that reads other things too (the dashboard's version check). */
export function stateColumns(today: number): Prisma.Sql {
  const { from, to } = dayWindow(today);
  return Prisma.sql`(SELECT "value" FROM "Setting" WHERE "key" = ${ROLLED_THROUGH_KEY}) AS "rolled",
    (SELECT "value" FROM "Setting" WHERE "key" = ${TODAY_KEY}) AS "todayStored",
    (SELECT COUNT(*) FROM "AnalyticsEvent" WHERE "at" >= ${from} AND "at" < ${to}) AS "todayEvents",
    (SELECT COUNT(*) FROM "Order" WHERE "createdAt" >= ${from} AND "createdAt" < ${to}) AS "todayStarted",
    (SELECT COUNT(*) FROM "Order" WHERE "paidAt" >= ${from} AND "paidAt" < ${to}) AS "todayPaid"`;
}

export function stateOf(v: Record<string, unknown>, today: number): AnalyticsState {
  const current = `${today}:${Number(v.todayEvents)}:${Number(v.todayStarted)}:${Number(v.todayPaid)}`;
  const stored = typeof v.todayStored === "string" ? v.todayStored : null;
  return { rolledThrough: v.rolled === null || v.rolled === undefined ? null : Number(v.rolled), today, stored, current, fresh: stored === current };
}

/** The roll-up state and whether today's stored fold is current: one statement, each part an index look-up or range count. */
export async function readAnalyticsState(deps: Pick<Deps, "db" | "now">): Promise<AnalyticsState> {
  const today = dayOf(deps.now());
  const [v] = await deps.db.$queryRaw<Record<string, unknown>[]>`SELECT ${stateColumns(today)}`;
  return stateOf(v!, today);
}

/**
 * Folds today and stores the rows unless another fold was stored since
 * `state` was read. Returns today's rows either way (they are exact for at
 * least the sources `state` saw).
 */
export async function foldToday(deps: Pick<Deps, "db" | "shop" | "now">, state: AnalyticsState): Promise<{ rows: Map<string, Row>; stored: boolean; events: number }> {
  const { rows, events } = await aggregateWindow(deps, dayWindow(state.today));
  const data = [...rows.values()].filter(nonZero);
  let stored = false;
  try {
    stored = await deps.db.$transaction(async (tx) => {
      // First statement: claims the Setting row (and on PostgreSQL locks it until commit).
      if (state.stored === null) {
        await tx.setting.create({ data: { key: TODAY_KEY, value: state.current } });
      } else {
        const claimed = await tx.setting.updateMany({ where: { key: TODAY_KEY, value: state.stored }, data: { value: state.current } });
        if (claimed.count === 0) return false;
      }
      // Every level -1 row: yesterday's leftovers go too (yesterday is the job's roll-up now).
      await tx.$executeRaw`DELETE FROM "AnalyticsRollup" WHERE "level" = ${TODAY_LEVEL}`;
      for (let i = 0; i < data.length; i += INSERT_CHUNK) {
        const values = data.slice(i, i + INSERT_CHUNK).map((r) => Prisma.sql`(${TODAY_LEVEL}, ${state.today}, ${r.dimension}, ${r.key}, ${Prisma.join(METRICS.map((m) => r.metrics[m]))})`);
        await tx.$executeRaw`INSERT INTO "AnalyticsRollup" ("level", "startDay", "dimension", "key", ${COLUMNS}) VALUES ${Prisma.join(values)}`;
      }
      return true;
    });
  } catch (err) {
    // Another instance created the row first: its fold stands.
    if ((err as { code?: unknown }).code !== "P2002") throw err;
  }
  return { rows, stored, events };
}

/** One run of the `analytics.today` job: folds today again (also when nothing was sold, so edited labels and platforms catch up). */
export async function runTodayFold(deps: Pick<Deps, "db" | "shop" | "now">) {
  const state = await readAnalyticsState(deps);
  const r = await foldToday(deps, state);
  return { day: state.today, fingerprint: state.current, events: r.events, rows: r.rows.size, stored: r.stored };
}
