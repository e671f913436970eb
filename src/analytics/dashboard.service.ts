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
import { analyticsSettings } from "./rollup.service.js";

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
  return Math.floor(deps.now().getTime() / 86_400_000) - analyticsSettings(deps).rollupRetentionDays + 1;
}

export type { Metrics };
