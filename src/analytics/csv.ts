import { stringify } from "csv-stringify/sync";
import { guardFormula } from "../catalog/csv/csv-cells.js";
import type { Deps } from "../deps.js";
import { formatFeedPrice } from "../i18n/format.js";
import type { Locale } from "../i18n/translate.js";
import { emptyMetrics, type Metrics } from "./aggregate.js";
import { funnelOf, getFollowerFigures, getSocialProof, kpisOf, previousRange, type DayRange } from "./analytics.service.js";
import type { TableName } from "./analytics.schema.js";
import { getDashboard, type LabelledRow } from "./dashboard.service.js";
import { dayKey } from "./days.js";
import { platformLabel } from "./analytics.service.js";

/**
 * Every dashboard table as CSV: every row (not just the top ten), plain
 * numbers (amounts as decimals with a currency column, rates as fractions),
 * UTF-8 with a byte order mark so spreadsheets show Persian names, and
 * names that start like a formula guarded with an apostrophe.
 */
const BOM = "\uFEFF";

const decimal = (minor: number, currency: string) => formatFeedPrice(minor, currency).split(" ")[0]!;
const ratio = (r: number | null) => (r === null ? "" : r.toFixed(6));

function write(header: string[], rows: (string | number)[][]) {
  return BOM + stringify([header, ...rows.map((r) => r.map((c) => (typeof c === "string" ? guardFormula(c) : c)))], { record_delimiter: "\r\n" });
}

const ROW_HEADER = ["key", "name", "currency", "revenue", "revenue_minor", "orders", "average_order", "units", "visits", "conversion_rate", "clicks", "product_views", "carts", "checkouts", "paid", "discount", "refunds", "refunded", "coupon_applications"];

function rowCells(key: string, name: string, m: Metrics, currency: string): (string | number)[] {
  const k = kpisOf(m);
  const f = funnelOf(m);
  return [key, name, currency, decimal(m.revenueMinor, currency), m.revenueMinor, m.orders, k.averageOrderMinor === null ? "" : decimal(k.averageOrderMinor, currency), m.units, m.visits, ratio(k.conversionRate), f.clicks, f.productViews, f.carts, f.checkouts, f.paid, decimal(m.discountMinor, currency), m.refunds, decimal(m.refundedMinor, currency), m.couponApplications];
}

export async function tableCsv(deps: Deps, input: { table: TableName; range: DayRange; locale: Locale }): Promise<{ csv: string; name: string }> {
  const name = `${dayKey(input.range.from)}_${dayKey(input.range.to)}`;
  const currency = deps.shop.currency;
  const { table, range, locale } = input;
  if (table === "followers") {
    const followers = await getFollowerFigures(deps, range);
    return { name, csv: write(["platform", "name", "email", "imported", "both", "total"], followers.rows.map((r) => [r.platform, platformLabel(r.platform, locale), r.email, r.imported, r.both, r.total])) };
  }
  if (table === "reviews" || table === "questions") {
    const sp = await getSocialProof(deps, range);
    if (table === "reviews") {
      return { name, csv: write(["month", "reviews", "average_rating", "verified_share"], sp.months.map((m) => [m.month, m.reviews, m.averageRating === null ? "" : m.averageRating.toFixed(3), ratio(m.verifiedShare)])) };
    }
    return {
      name,
      csv: write(
        ["from", "to", "questions_asked", "questions_answered", "median_first_answer_minutes", "unanswered_over_12h_now"],
        [[dayKey(range.from), dayKey(range.to), sp.questionsAsked, sp.questionsAnswered, sp.medianFirstAnswerMs === null ? "" : Math.round(sp.medianFirstAnswerMs / 60_000), sp.unansweredOver12h]],
      ),
    };
  }
  const d = await getDashboard(deps, { range, locale, allRows: true });
  if (table === "summary") {
    const prev = previousRange(range);
    const lines: [string, number | null, number | null, "money" | "count" | "ratio"][] = [
      ["revenue", d.kpis.revenueMinor, d.previousKpis.revenueMinor, "money"],
      ["orders", d.kpis.orders, d.previousKpis.orders, "count"],
      ["average_order", d.kpis.averageOrderMinor, d.previousKpis.averageOrderMinor, "money"],
      ["visits", d.kpis.visits, d.previousKpis.visits, "count"],
      ["conversion_rate", d.kpis.conversionRate, d.previousKpis.conversionRate, "ratio"],
      ["refunds", d.kpis.refunds, d.previousKpis.refunds, "count"],
      ["refunded", d.kpis.refundedMinor, d.previousKpis.refundedMinor, "money"],
      ["discount", d.kpis.discountMinor, d.previousKpis.discountMinor, "money"],
      ["units", d.kpis.units, d.previousKpis.units, "count"],
    ];
    const cell = (v: number | null, kind: string) => (v === null ? "" : kind === "money" ? decimal(v, currency) : kind === "ratio" ? ratio(v) : v);
    return {
      name,
      csv: write(
        ["metric", "currency", `${dayKey(range.from)}..${dayKey(range.to)}`, `${dayKey(prev.from)}..${dayKey(prev.to)}`],
        lines.map(([metric, now, before, kind]) => [metric, kind === "money" ? currency : "", cell(now, kind), cell(before, kind)]),
      ),
    };
  }
  if (table === "revenue") {
    return {
      name,
      csv: write(
        ["date", "currency", "revenue", "revenue_minor", "orders", "visits", "refunded", "previous_date", "previous_revenue"],
        d.series.map((s, i) => {
          const p = d.previousSeries[i];
          return [dayKey(s.day), currency, decimal(s.metrics.revenueMinor, currency), s.metrics.revenueMinor, s.metrics.orders, s.metrics.visits, decimal(s.metrics.refundedMinor, currency), p ? dayKey(p.day) : "", p ? decimal(p.metrics.revenueMinor, currency) : ""];
        }),
      ),
    };
  }
  const rows: LabelledRow[] = d.tables[table];
  return { name, csv: write(ROW_HEADER, rows.map((r) => rowCells(r.label.apiKey ?? r.key, r.label.label, r.metrics, currency))) };
}

/** One object's panel as CSV: a row per day, then the totals of the range and of the period before. */
export function objectCsv(o: { range: DayRange; metrics: Metrics; previous: Metrics; series: { day: number; metrics: Metrics }[] }, _locale: Locale, currency: string) {
  const prev = previousRange(o.range);
  const rows = [
    ...o.series.map((s) => rowCells(dayKey(s.day), "day", s.metrics, currency)),
    rowCells(`${dayKey(o.range.from)}..${dayKey(o.range.to)}`, "range", o.metrics, currency),
    rowCells(`${dayKey(prev.from)}..${dayKey(prev.to)}`, "previous", o.previous ?? emptyMetrics(), currency),
  ];
  return { name: `${dayKey(o.range.from)}_${dayKey(o.range.to)}`, csv: write(["period", "kind", ...ROW_HEADER.slice(2)], rows) };
}
