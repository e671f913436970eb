import { Prisma } from "../generated/prisma/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { translate, type Locale } from "../i18n/translate.js";
import { captionExcerpt } from "../posts/posts.view.js";
import { median } from "../reviews/questions.service.js";
import { addMetrics, aggregateWindow, emptyMetrics, METRICS, type Dimension, type Metrics, type Row } from "./aggregate.js";
import type { ObjectKind, RangePreset, RangeQueryT, SalesBy } from "./analytics.schema.js";
import { blocksFor, dayKey, dayOf, startOfDay } from "./days.js";
import { analyticsSettings, readRolledThrough } from "./rollup.service.js";

/**
 * What the dashboard, the per-object panels and /api/v1/analytics read.
 *
 * A range is whole UTC days. Days the roll-up job has folded are read from
 * the roll-up blocks (a handful of rows per object whatever the range);
 * the days after it, always including today, are folded live from raw events
 * and orders by the same code the job uses, so a sale shows at once.
 */
export interface DayRange {
  from: number;
  to: number;
  preset: RangePreset;
}

const problem = (field: string, message: string) => AppError.validation(`${field}: ${message}`, [{ field, message }]);

/** Turns range/from/to into days; every refusal names the parameter to fix. */
export function resolveRange(deps: Pick<Deps, "now" | "analytics">, query: RangeQueryT, fallback: RangePreset = "30d"): DayRange {
  const today = dayOf(deps.now());
  const { rollupRetentionDays } = analyticsSettings(deps);
  const floor = today - rollupRetentionDays + 1;
  const hasDates = query.from !== undefined || query.to !== undefined;
  const preset = query.range ?? (hasDates ? "custom" : fallback);
  if (preset !== "custom" && hasDates) throw problem("range", `"${preset}" takes no from/to; use range=custom (or leave range out) with from and to.`);
  let from: number;
  let to = today;
  if (preset === "today") from = today;
  else if (preset === "7d") from = today - 6;
  else if (preset === "30d") from = today - 29;
  else {
    if (query.from === undefined) throw problem("from", "required for a custom range, as YYYY-MM-DD.");
    from = query.from;
    to = query.to ?? today;
    if (to < from) throw problem("to", `${dayKey(to)} is before from (${dayKey(from)}).`);
    if (to > today) throw problem("to", `${dayKey(to)} is after today (${dayKey(today)}, UTC); there are no figures yet.`);
  }
  if (from < floor) throw problem("from", `${dayKey(from)} is before the oldest day kept (${dayKey(floor)}): figures are kept ${rollupRetentionDays} days.`);
  return { from, to, preset };
}

/** The same number of days just before. */
export function previousRange(range: DayRange): { from: number; to: number } {
  const length = range.to - range.from + 1;
  return { from: range.from - length, to: range.from - 1 };
}

const SUMS_AS = Prisma.raw(METRICS.map((m) => `SUM("${m}") AS "${m}"`).join(", "));
const METRIC_COLUMNS = Prisma.raw(METRICS.map((m) => `"${m}"`).join(", "));

const toMetrics = (raw: Record<string, unknown>): Metrics => {
  const m = emptyMetrics();
  for (const k of METRICS) m[k] = Number(raw[k] ?? 0);
  return m;
};

export interface Figures {
  /** Keyed `${dimension}\0${key}`. */
  rows: Map<string, Row>;
  /** Per-day figures of the series key (the shop's total unless asked otherwise), every day of the range. */
  series: Map<number, Metrics>;
  /** Days folded live because the roll-up has not reached them (always today when it is in the range). */
  liveDays: number;
}

/**
 * Figures over [from, to] for the given dimensions (or one object), summed
 * from roll-up blocks for rolled days and folded live for the rest.
 */
export async function figuresFor(
  deps: Pick<Deps, "db" | "shop" | "now">,
  range: { from: number; to: number },
  filter: { dimensions?: Dimension[]; object?: { dimension: Dimension; key: string }; series?: boolean } = {},
): Promise<Figures> {
  const rolledThrough = (await readRolledThrough(deps)) ?? range.from - 1;
  const closedTo = Math.min(range.to, rolledThrough);
  const rows = new Map<string, Row>();
  const series = new Map<number, Metrics>();
  const seriesKey = filter.object ?? { dimension: "total" as Dimension, key: "all" };
  const wanted = (dimension: string, key: string) =>
    filter.object ? dimension === filter.object.dimension && key === filter.object.key : !filter.dimensions || filter.dimensions.includes(dimension as Dimension);
  const merge = (dimension: Dimension, key: string, metrics: Metrics) => {
    const k = `${dimension}\u0000${key}`;
    const row = rows.get(k);
    if (row) addMetrics(row.metrics, metrics);
    else rows.set(k, { dimension, key, metrics: { ...metrics } });
  };

  if (range.from <= closedTo) {
    const blocks = Prisma.join(
      blocksFor(range.from, closedTo).map((b) => Prisma.sql`("level" = ${b.level} AND "startDay" = ${b.startDay})`),
      " OR ",
    );
    const scope = filter.object
      ? Prisma.sql`"dimension" = ${filter.object.dimension} AND "key" = ${filter.object.key} AND`
      : filter.dimensions
        ? Prisma.sql`"dimension" IN (${Prisma.join(filter.dimensions)}) AND`
        : Prisma.empty;
    const summed = await deps.db.$queryRaw<Record<string, unknown>[]>`SELECT "dimension", "key", ${SUMS_AS} FROM "AnalyticsRollup"
      WHERE ${scope} (${blocks}) GROUP BY "dimension", "key"`;
    for (const r of summed) merge(r.dimension as Dimension, r.key as string, toMetrics(r));
    if (filter.series) {
      const daily = await deps.db.$queryRaw<Record<string, unknown>[]>`SELECT "startDay", ${METRIC_COLUMNS} FROM "AnalyticsRollup"
        WHERE "dimension" = ${seriesKey.dimension} AND "key" = ${seriesKey.key} AND "level" = 0 AND "startDay" >= ${range.from} AND "startDay" <= ${closedTo}`;
      for (const r of daily) series.set(Number(r.startDay), toMetrics(r));
    }
  }
  const liveFrom = Math.max(range.from, closedTo + 1);
  if (liveFrom <= range.to) {
    const live = await aggregateWindow(deps, { from: startOfDay(liveFrom), to: startOfDay(range.to + 1) }, seriesKey);
    for (const r of live.rows.values()) if (wanted(r.dimension, r.key)) merge(r.dimension, r.key, r.metrics);
    for (const [day, m] of live.series) series.set(day, m);
  }
  if (filter.series) for (let d = range.from; d <= range.to; d++) if (!series.has(d)) series.set(d, emptyMetrics());
  return { rows, series, liveDays: Math.max(0, range.to - liveFrom + 1) };
}

export function rowsOf(figures: Figures, dimension: Dimension): Row[] {
  return [...figures.rows.values()].filter((r) => r.dimension === dimension).sort(byRevenue);
}

export function totalOf(figures: Figures, dimension: Dimension = "total", key = "all"): Metrics {
  return figures.rows.get(`${dimension}\u0000${key}`)?.metrics ?? emptyMetrics();
}

/** Highest revenue first, then most orders, then most clicks and views; the key breaks ties. */
export function byRevenue(a: Row, b: Row): number {
  return (
    b.metrics.revenueMinor - a.metrics.revenueMinor ||
    b.metrics.orders - a.metrics.orders ||
    b.metrics.clicks + b.metrics.productViews - (a.metrics.clicks + a.metrics.productViews) ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

// ───────────── derived figures ─────────────

export interface Kpis {
  revenueMinor: number;
  orders: number;
  averageOrderMinor: number | null;
  visits: number;
  /** Paid orders per visit (visitor-day); null without visits. */
  conversionRate: number | null;
  refunds: number;
  refundedMinor: number;
  discountMinor: number;
  units: number;
}

export function kpisOf(m: Metrics): Kpis {
  return {
    revenueMinor: m.revenueMinor,
    orders: m.orders,
    averageOrderMinor: m.orders ? Math.round(m.revenueMinor / m.orders) : null,
    visits: m.visits,
    conversionRate: m.visits ? m.orders / m.visits : null,
    refunds: m.refunds,
    refundedMinor: m.refundedMinor,
    discountMinor: m.discountMinor,
    units: m.units,
  };
}

/** The funnel of one row: clicks → product views → carts → checkouts → paid. */
export function funnelOf(m: Metrics) {
  return { clicks: m.clicks, productViews: m.productViews, carts: m.carts, checkouts: m.checkouts, paid: m.orders };
}

// ───────────── labels ─────────────

export interface Label {
  label: string;
  /** Admin page of the object, when it still exists. */
  adminPath?: string;
  /** The API key when it is not the stored key (a link's code). */
  apiKey?: string;
  missing?: boolean;
}

/** Names for rows, in the page's language: titles, codes, channel and platform names. */
export async function labelsFor(deps: Pick<Deps, "db">, locale: Locale, rows: Row[]): Promise<Map<string, Label>> {
  const ids = (d: Dimension) => [...new Set(rows.filter((r) => r.dimension === d).map((r) => r.key))];
  const [posts, links, lives, products, coupons] = await Promise.all([
    ids("post").length ? deps.db.post.findMany({ where: { id: { in: ids("post") } }, select: { id: true, caption: true, platform: true } }) : [],
    ids("link").length ? deps.db.shortLink.findMany({ where: { id: { in: ids("link") } }, select: { id: true, code: true } }) : [],
    ids("live").length ? deps.db.liveSession.findMany({ where: { id: { in: ids("live") } }, select: { id: true, title: true } }) : [],
    ids("product").length
      ? deps.db.product.findMany({ where: { id: { in: ids("product") } }, select: { id: true, title: true, translations: { where: { locale }, select: { title: true } } } })
      : [],
    ids("coupon").length ? deps.db.coupon.findMany({ where: { id: { in: ids("coupon") } }, select: { id: true, code: true } }) : [],
  ]);
  const out = new Map<string, Label>();
  const t = (key: string, vars?: Record<string, unknown>) => translate(locale, key, vars);
  for (const p of posts) out.set(`post\u0000${p.id}`, { label: captionExcerpt(p.caption, 60) || t("analytics.label.post", { platform: t(`platform.${p.platform}`) }), adminPath: `/admin/posts/${p.id}` });
  for (const l of links) out.set(`link\u0000${l.id}`, { label: `/l/${l.code}`, adminPath: `/admin/links/${l.id}`, apiKey: l.code });
  for (const l of lives) out.set(`live\u0000${l.id}`, { label: l.title, adminPath: `/admin/live/${l.id}` });
  for (const p of products) out.set(`product\u0000${p.id}`, { label: p.translations[0]?.title || p.title, adminPath: `/admin/products/${p.id}` });
  for (const c of coupons) out.set(`coupon\u0000${c.id}`, { label: c.code, adminPath: `/admin/coupons/${c.id}` });
  for (const r of rows) {
    const k = `${r.dimension}\u0000${r.key}`;
    if (out.has(k)) continue;
    if (r.dimension === "channel") out.set(k, { label: r.key === "direct" ? t("analytics.channel.direct") : r.key === "untagged" ? t("analytics.channel.untagged") : r.key });
    else if (r.dimension === "platform") out.set(k, { label: platformLabel(r.key, locale) });
    else if (r.dimension === "host") out.set(k, { label: r.key });
    else if (r.dimension === "total" || r.dimension === "coupons") out.set(k, { label: r.key });
    else out.set(k, { label: t("analytics.label.deleted"), missing: true, ...(r.dimension === "link" ? { apiKey: r.key } : {}) });
  }
  return out;
}

export function platformLabel(key: string, locale: Locale): string {
  if (key === "direct") return translate(locale, "analytics.platform.direct");
  if (key === "other") return translate(locale, "analytics.platform.other");
  const label = translate(locale, `platform.${key}`);
  return label === `platform.${key}` ? key : label;
}

// ───────────── the sales API ─────────────

const DIMENSION_OF: Record<SalesBy, Dimension> = { channel: "channel", platform: "platform", post: "post", link: "link", live: "live", host: "host", product: "product", coupon: "coupon" };

/**
 * GET /api/v1/analytics/sales: totals for the range and one row per key of
 * `by`, highest revenue first. `key` is the channel or platform name, the
 * host name, the link's code, or the post, live session, product or coupon id.
 */
export async function getSales(deps: Pick<Deps, "db" | "shop" | "now">, input: { range: DayRange; by: SalesBy; locale?: Locale }) {
  const dimension = DIMENSION_OF[input.by];
  const figures = await figuresFor(deps, input.range, { dimensions: ["total", dimension] });
  const rows = rowsOf(figures, dimension);
  const labels = await labelsFor(deps, input.locale ?? "en", rows);
  const total = totalOf(figures);
  return {
    range: rangeJson(input.range),
    by: input.by,
    totals: { ...metricsJson(total), currency: deps.shop.currency, ...kpiJson(total) },
    rows: rows.map((r) => {
      const label = labels.get(`${r.dimension}\u0000${r.key}`);
      return {
        key: label?.apiKey ?? r.key,
        label: label?.label ?? r.key,
        ...(dimension === "link" ? { linkId: r.key } : {}),
        ...metricsJson(r.metrics),
        ...kpiJson(r.metrics),
        ...(label?.missing ? { deleted: true } : {}),
      };
    }),
  };
}

export function rangeJson(range: DayRange) {
  const prev = previousRange(range);
  return { from: dayKey(range.from), to: dayKey(range.to), days: range.to - range.from + 1, preset: range.preset, previous: { from: dayKey(prev.from), to: dayKey(prev.to) } };
}

export function metricsJson(m: Metrics) {
  return {
    orders: m.orders,
    revenueMinor: m.revenueMinor,
    clicks: m.clicks,
    productViews: m.productViews,
    carts: m.carts,
    checkouts: m.checkouts,
    units: m.units,
    discountMinor: m.discountMinor,
    refunds: m.refunds,
    refundedMinor: m.refundedMinor,
    visits: m.visits,
    postViews: m.postViews,
    galleryViews: m.galleryViews,
    couponApplications: m.couponApplications,
    follows: m.follows,
    liveJoins: m.liveJoins,
    liveClaims: m.liveClaims,
  };
}

function kpiJson(m: Metrics) {
  const k = kpisOf(m);
  return { averageOrderMinor: k.averageOrderMinor, conversionRate: k.conversionRate === null ? null : Number(k.conversionRate.toFixed(6)) };
}

// ───────────── one object (admin panels, API) ─────────────

const OBJECT_DIMENSION: Record<ObjectKind, Dimension> = { post: "post", link: "link", live: "live", product: "product", coupon: "coupon" };

/** Whether the object exists; a link may be named by its code. Returns its id, or null. */
async function findObject(deps: Pick<Deps, "db">, kind: ObjectKind, id: string): Promise<{ id: string; title: string } | null> {
  switch (kind) {
    case "post": {
      const p = await deps.db.post.findUnique({ where: { id }, select: { id: true, caption: true, platform: true } });
      return p && { id: p.id, title: captionExcerpt(p.caption, 60) || p.platform };
    }
    case "link": {
      const l = (await deps.db.shortLink.findUnique({ where: { id }, select: { id: true, code: true } })) ?? (await deps.db.shortLink.findUnique({ where: { code: id.toLowerCase() }, select: { id: true, code: true } }));
      return l && { id: l.id, title: `/l/${l.code}` };
    }
    case "live": {
      const l = await deps.db.liveSession.findUnique({ where: { id }, select: { id: true, title: true } });
      return l && { id: l.id, title: l.title };
    }
    case "product": {
      const p = await deps.db.product.findUnique({ where: { id }, select: { id: true, title: true } });
      return p && { id: p.id, title: p.title };
    }
    case "coupon": {
      const c = await deps.db.coupon.findUnique({ where: { id }, select: { id: true, code: true } });
      return c && { id: c.id, title: c.code };
    }
  }
}

/**
 * One post's, link's, live session's, product's or coupon's figures and
 * funnel for the range, beside the previous period, with its daily series.
 * An id that does not exist is a 404 naming `id`.
 */
export async function getObjectFigures(deps: Pick<Deps, "db" | "shop" | "now">, input: { kind: ObjectKind; id: string; range: DayRange }) {
  const found = await findObject(deps, input.kind, input.id);
  if (!found) throw new AppError("not_found", 404, `id: no ${input.kind} "${input.id}".`, [{ field: "id", message: `no such ${input.kind}` }]);
  const object = { dimension: OBJECT_DIMENSION[input.kind], key: found.id };
  const [current, previous] = await Promise.all([
    figuresFor(deps, input.range, { object, series: true }),
    figuresFor(deps, previousRange(input.range), { object }),
  ]);
  const now = totalOf(current, object.dimension, object.key);
  const before = totalOf(previous, object.dimension, object.key);
  return {
    kind: input.kind,
    id: found.id,
    title: found.title,
    range: input.range,
    metrics: now,
    previous: before,
    funnel: funnelOf(now),
    series: [...current.series.entries()].sort((a, b) => a[0] - b[0]).map(([day, m]) => ({ day, metrics: m })),
  };
}

// ───────────── followers and social proof ─────────────

/** New followers in the range (first confirmed by email or first imported), by platform and how they were verified. */
export async function getFollowerFigures(deps: Pick<Deps, "db">, range: { from: number; to: number }) {
  const from = startOfDay(range.from);
  const to = startOfDay(range.to + 1);
  const rows = await deps.db.$queryRaw<{ platform: string; verification: string; n: unknown }[]>`
    SELECT "platform",
      CASE WHEN "emailConfirmedAt" IS NOT NULL AND "importedAt" IS NOT NULL THEN 'both' WHEN "emailConfirmedAt" IS NOT NULL THEN 'email' ELSE 'imported' END AS "verification",
      COUNT(*) AS "n"
    FROM "Follower"
    WHERE "status" <> 'pending'
      AND (CASE WHEN "importedAt" IS NULL OR ("emailConfirmedAt" IS NOT NULL AND "emailConfirmedAt" < "importedAt") THEN "emailConfirmedAt" ELSE "importedAt" END) >= ${from}
      AND (CASE WHEN "importedAt" IS NULL OR ("emailConfirmedAt" IS NOT NULL AND "emailConfirmedAt" < "importedAt") THEN "emailConfirmedAt" ELSE "importedAt" END) < ${to}
    GROUP BY "platform", "verification"
    ORDER BY "platform", "verification"`;
  const byPlatform = new Map<string, { platform: string; email: number; imported: number; both: number; total: number }>();
  for (const r of rows) {
    const p = byPlatform.get(r.platform) ?? { platform: r.platform, email: 0, imported: 0, both: 0, total: 0 };
    const n = Number(r.n);
    p[r.verification as "email" | "imported" | "both"] += n;
    p.total += n;
    byPlatform.set(r.platform, p);
  }
  const list = [...byPlatform.values()].sort((a, b) => b.total - a.total || (a.platform < b.platform ? -1 : 1));
  return { rows: list, total: list.reduce((n, r) => n + r.total, 0) };
}

export const UNANSWERED_AFTER_MS = 12 * 3_600_000;

/**
 * Reviews collected per calendar month of the range (rejected ones left out)
 * with their average rating and verified share; questions asked and
 * answered in the range, the median time to a first answer, and questions
 * still unanswered after 12 hours (now, whatever the range).
 */
export async function getSocialProof(deps: Pick<Deps, "db" | "now">, range: { from: number; to: number }) {
  const from = startOfDay(range.from);
  const to = startOfDay(range.to + 1);
  const months: { start: Date; key: string }[] = [];
  for (let m = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1)); m < to; m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))) {
    months.push({ start: m, key: m.toISOString().slice(0, 7) });
  }
  // The month of each review as a CASE over the month boundaries: portable, no date functions.
  const bucketExpr =
    months.length > 1
      ? Prisma.sql`CASE ${Prisma.join(
          months.slice(1).map((m, i) => Prisma.sql`WHEN "createdAt" < ${m.start} THEN ${i}`),
          " ",
        )} ELSE ${months.length - 1} END`
      : Prisma.sql`0`;
  const [reviewRows, answered, asked, waiting] = await Promise.all([
    deps.db.$queryRaw<{ bucket: unknown; n: unknown; ratings: unknown; verified: unknown }[]>`
      SELECT "bucket", COUNT(*) AS "n", SUM("rating") AS "ratings", SUM("verified") AS "verified"
      FROM (SELECT ${bucketExpr} AS "bucket", "rating", CASE WHEN "verifiedBuyer" THEN 1 ELSE 0 END AS "verified"
            FROM "Review" WHERE "createdAt" >= ${from} AND "createdAt" < ${to} AND "status" <> 'rejected') AS "r"
      GROUP BY "bucket"`,
    deps.db.question.findMany({ where: { answeredAt: { gte: from, lt: to } }, select: { createdAt: true, answeredAt: true } }),
    deps.db.question.count({ where: { createdAt: { gte: from, lt: to }, status: { not: "rejected" } } }),
    deps.db.question.count({ where: { answeredAt: null, status: { not: "rejected" }, createdAt: { lt: new Date(deps.now().getTime() - UNANSWERED_AFTER_MS) } } }),
  ]);
  const perMonth = months.map((m) => ({ month: m.key, reviews: 0, ratingSum: 0, verified: 0 }));
  for (const r of reviewRows) {
    const slot = perMonth[Number(r.bucket)];
    if (!slot) continue;
    slot.reviews += Number(r.n);
    slot.ratingSum += Number(r.ratings ?? 0);
    slot.verified += Number(r.verified ?? 0);
  }
  const reviews = perMonth.reduce((n, m) => n + m.reviews, 0);
  const verified = perMonth.reduce((n, m) => n + m.verified, 0);
  const ratingSum = perMonth.reduce((n, m) => n + m.ratingSum, 0);
  return {
    months: perMonth.map((m) => ({ month: m.month, reviews: m.reviews, averageRating: m.reviews ? m.ratingSum / m.reviews : null, verifiedShare: m.reviews ? m.verified / m.reviews : null })),
    reviews,
    averageRating: reviews ? ratingSum / reviews : null,
    verifiedShare: reviews ? verified / reviews : null,
    questionsAsked: asked,
    questionsAnswered: answered.length,
    medianFirstAnswerMs: median(answered.map((q) => q.answeredAt!.getTime() - q.createdAt.getTime())),
    unansweredOver12h: waiting,
  };
}
