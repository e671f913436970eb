import type { Deps } from "../deps.js";
import type { Locale } from "../i18n/translate.js";
import type { Dimension, Metrics, Row } from "./aggregate.js";
import {
  figuresFor,
  getFollowerFigures,
  getSocialProof,
  kpisOf,
  labelsFor,
  previousRange,
  rowsOf,
  totalOf,
  type DayRange,
  type Label,
} from "./analytics.service.js";
import { Prisma } from "../generated/prisma/client.js";
import { dayOf, startOfDay } from "./days.js";
import { analyticsSettings, readRolledThrough, ROLLED_THROUGH_KEY } from "./rollup.service.js";
import { CHECKLIST_HIDDEN_KEY } from "./onboarding.service.js";

/** How many rows the dashboard shows per "top" table (the CSV has them all). */
export const TOP = 10;

export interface LabelledRow extends Row {
  label: Label;
}

/**
 * Everything the admin home shows for a range, as numbers (the view formats
 * them): the period and the one before it, the revenue series, every
 * dimension's rows with their labels, followers and social proof.
 */
export async function getDashboard(deps: Pick<Deps, "db" | "shop" | "now" | "analytics">, input: { range: DayRange; locale: Locale; allRows?: boolean }) {
  const prev = previousRange(input.range);
  const [current, previous, followers, socialProof] = await Promise.all([
    figuresFor(deps, input.range, { series: true }),
    figuresFor(deps, prev, { dimensions: ["total"], series: true }),
    getFollowerFigures(deps, input.range),
    getSocialProof(deps, input.range),
  ]);
  const take = (d: Dimension) => (input.allRows ? rowsOf(current, d) : rowsOf(current, d).slice(0, TOP));
  const tables = {
    channel: rowsOf(current, "channel"),
    platform: rowsOf(current, "platform"),
    post: take("post"),
    link: take("link"),
    live: take("live"),
    host: take("host"),
    product: take("product"),
    coupon: take("coupon"),
  };
  const labels = await labelsFor(deps, input.locale, Object.values(tables).flat());
  const withLabels = (rows: Row[]): LabelledRow[] => rows.map((r) => ({ ...r, label: labels.get(`${r.dimension}\u0000${r.key}`) ?? { label: r.key } }));
  const now = totalOf(current);
  const before = totalOf(previous);
  const prevFloor = previousRange(input.range).from;
  return {
    range: input.range,
    previousRange: prev,
    /** The previous period reaches past the roll-up retention: part of it is not kept. */
    previousPartial: prevFloor < dayOfFloor(deps),
    currency: deps.shop.currency,
    totals: now,
    previousTotals: before,
    kpis: kpisOf(now),
    previousKpis: kpisOf(before),
    series: [...current.series.entries()].sort((a, b) => a[0] - b[0]).map(([day, metrics]) => ({ day, metrics })),
    previousSeries: [...previous.series.entries()].sort((a, b) => a[0] - b[0]).map(([day, metrics]) => ({ day, metrics })),
    tables: Object.fromEntries(Object.entries(tables).map(([k, rows]) => [k, withLabels(rows)])) as Record<keyof typeof tables, LabelledRow[]>,
    counts: Object.fromEntries((["post", "link", "live", "host", "product", "coupon"] as const).map((d) => [d, rowsOf(current, d).length])) as Record<"post" | "link" | "live" | "host" | "product" | "coupon", number>,
    coupons: { any: totalOf(current, "coupons", "any"), followers: totalOf(current, "coupons", "followers") },
    followers,
    socialProof,
    liveDays: current.liveDays,
    otherCurrencyOrders: now.otherCurrencyOrders,
  };
}

export type Dashboard = Awaited<ReturnType<typeof getDashboard>>;

function dayOfFloor(deps: Pick<Deps, "now" | "analytics">) {
  return dayOf(deps.now()) - analyticsSettings(deps).rollupRetentionDays + 1;
}

// ───────────── a cache keyed by what the figures are made of ─────────────

interface CacheEntry {
  version: string;
  data: Dashboard;
}
const caches = new WeakMap<object, Map<string, CacheEntry>>();
const CACHE_ENTRIES = 32;
/** Figures that depend on the clock alone (questions waiting over 12 hours, labels edited) are at most this old. */
export const DASHBOARD_MAX_AGE_MS = 60_000;

/**
 * What the dashboard's figures are made of, in one cheap statement (index
 * look-ups and small counts): the roll-up state, the number of events on the
 * days folded live, the newest order and payment, followers and reviews.
 * Any sale, refund, click or view changes it.
 */
const lastRolled = new WeakMap<object, number | null>();

async function dataVersion(deps: Pick<Deps, "db" | "now">): Promise<{ version: string; checklistHidden: boolean }> {
  // The days folded live start after the last rolled day; the statement says
  // which day that is, so it is read again only when the roll-up moved on.
  let rolled = lastRolled.has(deps.db) ? lastRolled.get(deps.db)! : await readRolledThrough(deps);
  for (let attempt = 0; ; attempt++) {
    const v = await versionRow(deps, startOfDay(Math.min(dayOf(deps.now()), (rolled ?? -1) + 1)));
    const now = v.rolled === null || v.rolled === undefined ? null : Number(v.rolled);
    if (now === rolled || attempt > 0) {
      lastRolled.set(deps.db, now);
      const { checklist, ...figures } = v;
      return { version: JSON.stringify(figures, (_k, value) => (typeof value === "bigint" ? Number(value) : value)), checklistHidden: checklist === "1" };
    }
    rolled = now;
  }
}

async function versionRow(deps: Pick<Deps, "db">, liveFrom: Date) {
  const [v] = await deps.db.$queryRaw<Record<string, unknown>[]>`SELECT
    (SELECT "value" FROM "Setting" WHERE "key" = ${ROLLED_THROUGH_KEY}) AS "rolled",
    (SELECT MAX("rolledAt") FROM "AnalyticsDay") AS "rolledAt",
    (SELECT COUNT(*) FROM "AnalyticsEvent" WHERE "at" >= ${liveFrom}) AS "events",
    (SELECT MAX("createdAt") FROM "Order") AS "ordered",
    (SELECT MAX("paidAt") FROM "Order") AS "paid",
    (SELECT COUNT(*) FROM "Follower") AS "followers",
    (SELECT MAX("updatedAt") FROM "Follower") AS "followersAt",
    (SELECT COUNT(*) FROM "Review") AS "reviews",
    (SELECT MAX("updatedAt") FROM "Review") AS "reviewsAt",
    (SELECT "value" FROM "Setting" WHERE "key" = ${CHECKLIST_HIDDEN_KEY}) AS "checklist"`;
  return v!;
}

/**
 * getDashboard behind a per-process cache: a repeated view of the same range
 * costs one version query when nothing changed (no sale, click, view,
 * refund, roll-up, follower or review), and never serves figures older than
 * a minute. Every instance keeps its own; the database stays the only truth.
 */
export async function getDashboardCached(
  deps: Pick<Deps, "db" | "shop" | "now" | "analytics">,
  input: { range: DayRange; locale: Locale; allRows?: boolean },
): Promise<{ data: Dashboard; checklistHidden: boolean }> {
  let cache = caches.get(deps.db);
  if (!cache) caches.set(deps.db, (cache = new Map()));
  const key = `${input.range.from}:${input.range.to}:${input.range.preset}:${input.locale}:${input.allRows ? 1 : 0}`;
  const current = await dataVersion(deps);
  const version = `${Math.floor(deps.now().getTime() / DASHBOARD_MAX_AGE_MS)}:${current.version}`;
  const hit = cache.get(key);
  if (hit && hit.version === version) return { data: hit.data, checklistHidden: current.checklistHidden };
  const data = await getDashboard(deps, input);
  cache.delete(key);
  cache.set(key, { version, data });
  for (const old of cache.keys()) {
    if (cache.size <= CACHE_ENTRIES) break;
    cache.delete(old);
  }
  return { data, checklistHidden: current.checklistHidden };
}

/** Forgets every cached dashboard of this database (the benchmark's cold runs). */
export function clearDashboardCache(deps: Pick<Deps, "db">) {
  caches.get(deps.db)?.clear();
}

export type { Metrics };
