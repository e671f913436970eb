import { formatMoney, formatNumber, intlLocale } from "../i18n/format.js";
import { translate, type Locale } from "../i18n/translate.js";
import { describeDuration } from "../reviews/questions.service.js";
import { emptyMetrics, type Metrics } from "./aggregate.js";
import { funnelOf, kpisOf, platformLabel, type DayRange } from "./analytics.service.js";
import { barRows, bucketSize, timeChart } from "./charts.js";
import type { Dashboard, LabelledRow } from "./dashboard.service.js";
import { dayKey, startOfDay } from "./days.js";
import type { Onboarding } from "./onboarding.service.js";

/**
 * The dashboard's data as the templates print it: money, numbers, dates and
 * percentages in the page's language (Persian digits on Persian pages), the
 * change against the previous period in words, and chart geometry. No data
 * access here.
 */
type T = (key: string, vars?: Record<string, unknown>) => string;

const formats = new Map<string, Formats>();

/** The formats of a language and currency, made once (building Intl formatters costs more than using them). */
export function formatsFor(locale: Locale, currency: string): Formats {
  let f = formats.get(`${locale}:${currency}`);
  if (!f) formats.set(`${locale}:${currency}`, (f = new Formats(locale, currency)));
  return f;
}

export class Formats {
  readonly t: T;
  private readonly pctFmt: Intl.NumberFormat;
  private readonly dayFmt: Intl.DateTimeFormat;
  private readonly monthFmt: Intl.DateTimeFormat;
  readonly rtl: boolean;

  constructor(
    readonly locale: Locale,
    readonly currency: string,
  ) {
    this.t = (key, vars) => translate(locale, key, vars);
    this.rtl = locale === "fa";
    // Days are UTC calendar days (YYYY-MM-DD in the API), so the labels use the Gregorian calendar in both languages.
    const tag = `${intlLocale(locale)}-u-ca-gregory`;
    this.pctFmt = new Intl.NumberFormat(intlLocale(locale), { style: "percent", maximumFractionDigits: 1 });
    this.dayFmt = new Intl.DateTimeFormat(tag, { month: "short", day: "numeric", timeZone: "UTC" });
    this.monthFmt = new Intl.DateTimeFormat(tag, { month: "long", year: "numeric", timeZone: "UTC" });
  }

  money = (minor: number) => formatMoney(minor, this.currency, this.locale);
  num = (n: number) => formatNumber(n, this.locale);
  pct = (ratio: number | null) => (ratio === null ? "—" : this.pctFmt.format(ratio));
  day = (day: number) => this.dayFmt.format(startOfDay(day));
  month = (key: string) => this.monthFmt.format(new Date(`${key}-01T00:00:00Z`));
  range = (from: number, to: number) => (from === to ? this.day(from) : this.t("analytics.range.between", { from: this.day(from), to: this.day(to) }));

  /** "▲ 12%" / "▼ 5%" / "new" / "no change", with a sentence for screen readers. */
  change(now: number, before: number) {
    if (now === before) return { text: this.t("analytics.change.same"), trend: "flat", spoken: this.t("analytics.change.sameSpoken") };
    if (before === 0) return { text: this.t("analytics.change.new"), trend: "up", spoken: this.t("analytics.change.newSpoken") };
    const ratio = (now - before) / Math.abs(before);
    const text = this.pctFmt.format(Math.abs(ratio));
    return ratio > 0
      ? { text: `▲ ${text}`, trend: "up", spoken: this.t("analytics.change.up", { pct: text }) }
      : { text: `▼ ${text}`, trend: "down", spoken: this.t("analytics.change.down", { pct: text }) };
  }
}

export function rangeView(range: DayRange, f: Formats, today: number) {
  const days = range.to - range.from + 1;
  return {
    preset: range.preset,
    from: dayKey(range.from),
    to: dayKey(range.to),
    label: f.range(range.from, range.to),
    days,
    includesToday: range.to === today,
    qs: range.preset === "custom" ? `?range=custom&from=${dayKey(range.from)}&to=${dayKey(range.to)}` : `?range=${range.preset}`,
    presets: (["today", "7d", "30d"] as const).map((p) => ({ id: p, label: f.t(`analytics.range.${p}`), current: range.preset === p })),
    max: dayKey(today),
  };
}

function kpiTiles(d: Dashboard, f: Formats) {
  const now = d.kpis;
  const before = d.previousKpis;
  const tile = (id: string, value: string, previous: string, change: ReturnType<Formats["change"]>, note?: string) => ({ id, label: f.t(`analytics.kpi.${id}`), value, previous, change, note });
  return [
    tile("revenue", f.money(now.revenueMinor), f.money(before.revenueMinor), f.change(now.revenueMinor, before.revenueMinor)),
    tile("orders", f.num(now.orders), f.num(before.orders), f.change(now.orders, before.orders)),
    tile("aov", now.averageOrderMinor === null ? "—" : f.money(now.averageOrderMinor), before.averageOrderMinor === null ? "—" : f.money(before.averageOrderMinor), f.change(now.averageOrderMinor ?? 0, before.averageOrderMinor ?? 0)),
    tile("conversion", f.pct(now.conversionRate), f.pct(before.conversionRate), f.change(now.conversionRate ?? 0, before.conversionRate ?? 0), f.t("analytics.kpi.conversionNote", { orders: now.orders, visits: now.visits })),
    tile("refunds", f.money(now.refundedMinor), f.money(before.refundedMinor), f.change(now.refundedMinor, before.refundedMinor), f.t("analytics.kpi.refundsNote", { count: now.refunds })),
  ];
}

/** The revenue chart: days (or weeks, or 30-day spans) of the range, the previous period as a line. */
export function revenueChart(d: Pick<Dashboard, "series" | "previousSeries" | "range">, f: Formats, id = "revenue-chart") {
  const size = bucketSize(d.series.length);
  const bucket = <T extends { day: number; metrics: Metrics }>(series: T[]) => {
    const out: { from: number; to: number; metrics: Metrics }[] = [];
    for (let i = 0; i < series.length; i += size) {
      const part = series.slice(i, i + size);
      const m = emptyMetrics();
      for (const p of part) for (const k of Object.keys(m) as (keyof Metrics)[]) m[k] += p.metrics[k];
      out.push({ from: part[0]!.day, to: part[part.length - 1]!.day, metrics: m });
    }
    return out;
  };
  const current = bucket(d.series);
  const previous = bucket(d.previousSeries);
  const chart = timeChart({ id, values: current.map((b) => b.metrics.revenueMinor), previous: previous.map((b) => b.metrics.revenueMinor), rtl: f.rtl });
  const best = current.reduce<(typeof current)[number] | null>((a, b) => (!a || b.metrics.revenueMinor > a.metrics.revenueMinor ? b : a), null);
  const total = current.reduce((n, b) => n + b.metrics.revenueMinor, 0);
  const prevTotal = previous.reduce((n, b) => n + b.metrics.revenueMinor, 0);
  const label = (b: { from: number; to: number }) => (b.from === b.to ? f.day(b.from) : f.range(b.from, b.to));
  return {
    ...chart,
    yMax: f.money(chart.max),
    yHalf: f.money(chart.max / 2),
    xStart: current.length ? label(current[0]!) : "",
    xEnd: current.length ? label(current[current.length - 1]!) : "",
    unit: f.t(size === 1 ? "analytics.chart.perDay" : size === 7 ? "analytics.chart.perWeek" : "analytics.chart.per30"),
    summary:
      total === 0
        ? f.t("analytics.chart.revenueNone", { range: f.range(d.range.from, d.range.to) })
        : f.t("analytics.chart.revenueSummary", { total: f.money(total), range: f.range(d.range.from, d.range.to), previous: f.money(prevTotal), best: label(best!), bestValue: f.money(best!.metrics.revenueMinor) }),
    rows: current.map((b, i) => ({
      label: label(b),
      revenue: f.money(b.metrics.revenueMinor),
      orders: f.num(b.metrics.orders),
      visits: f.num(b.metrics.visits),
      previousLabel: previous[i] ? label(previous[i]!) : "",
      previousRevenue: previous[i] ? f.money(previous[i]!.metrics.revenueMinor) : "",
      barTitle: `${label(b)}: ${f.money(b.metrics.revenueMinor)}`,
    })),
  };
}

function funnelCells(m: Metrics, f: Formats) {
  const fn = funnelOf(m);
  return { clicks: f.num(fn.clicks), productViews: f.num(fn.productViews), carts: f.num(fn.carts), checkouts: f.num(fn.checkouts), paid: f.num(fn.paid) };
}

function tableRows(rows: LabelledRow[], f: Formats) {
  const bars = barRows(
    rows.map((r) => r.metrics.revenueMinor),
    f.rtl,
  );
  return rows.map((r, i) => {
    const k = kpisOf(r.metrics);
    return {
      key: r.key,
      label: r.label.label,
      adminPath: r.label.adminPath,
      missing: r.label.missing ?? false,
      revenue: f.money(r.metrics.revenueMinor),
      orders: f.num(r.metrics.orders),
      units: f.num(r.metrics.units),
      aov: k.averageOrderMinor === null ? "—" : f.money(k.averageOrderMinor),
      visits: f.num(r.metrics.visits),
      conversion: f.pct(k.conversionRate),
      clickToPaid: f.pct(r.metrics.clicks ? r.metrics.orders / r.metrics.clicks : null),
      viewToPaid: f.pct(r.metrics.productViews ? r.metrics.orders / r.metrics.productViews : null),
      discount: f.money(r.metrics.discountMinor),
      refunded: f.money(r.metrics.refundedMinor),
      applications: f.num(r.metrics.couponApplications),
      funnel: funnelCells(r.metrics, f),
      bar: bars[i]!,
    };
  });
}

export function dashboardView(d: Dashboard, f: Formats, today: number, onboarding: Onboarding | null) {
  const t = f.t;
  const range = rangeView(d.range, f, today);
  const csv = (table: string) => `/admin/analytics/export/${table}.csv${range.qs}`;
  const channel = tableRows(d.tables.channel, f);
  const platform = tableRows(d.tables.platform, f);
  const top = (kind: "post" | "link" | "live" | "host") => ({
    id: `top-${kind}`,
    kind,
    title: t(`analytics.top.${kind}`),
    rows: tableRows(d.tables[kind], f),
    csv: csv(kind),
    more: Math.max(0, d.counts[kind] - d.tables[kind].length),
    empty: t(`analytics.top.${kind}.empty`),
  });
  const split = [
    { id: "by-channel", kind: "channel", title: t("analytics.byChannel"), nameLabel: t("analytics.col.name.channel"), rows: channel, csv: csv("channel"), summary: summaryOf(channel, t) },
    { id: "by-platform", kind: "platform", title: t("analytics.byPlatform"), nameLabel: t("analytics.col.name.platform"), rows: platform, csv: csv("platform"), summary: summaryOf(platform, t) },
  ];
  const sp = d.socialProof;
  const monthsChart = timeChart({ id: "reviews-chart", values: sp.months.map((m) => m.reviews), rtl: f.rtl });
  const followerBars = barRows(
    d.followers.rows.map((r) => r.total),
    f.rtl,
  );
  return {
    range,
    split,
    funnels: [top("post"), top("link"), top("live"), top("host")],
    previousLabel: f.range(d.previousRange.from, d.previousRange.to),
    previousPartial: d.previousPartial,
    liveDays: d.liveDays,
    otherCurrencyOrders: d.otherCurrencyOrders,
    kpis: kpiTiles(d, f),
    revenue: revenueChart(d, f),
    channel: tableRows(d.tables.channel, f),
    platform: tableRows(d.tables.platform, f),
    post: tableRows(d.tables.post, f),
    link: tableRows(d.tables.link, f),
    live: tableRows(d.tables.live, f),
    host: tableRows(d.tables.host, f),
    product: tableRows(d.tables.product, f),
    coupon: tableRows(d.tables.coupon, f),
    more: Object.fromEntries((["post", "link", "live", "host", "product", "coupon"] as const).map((k) => [k, Math.max(0, d.counts[k] - d.tables[k].length)])),
    coupons: {
      anyRevenue: f.money(d.coupons.any.revenueMinor),
      anyDiscount: f.money(d.coupons.any.discountMinor),
      anyOrders: f.num(d.coupons.any.orders),
      followersRevenue: f.money(d.coupons.followers.revenueMinor),
      followersDiscount: f.money(d.coupons.followers.discountMinor),
      followersOrders: f.num(d.coupons.followers.orders),
    },
    followers: {
      total: f.num(d.followers.total),
      rows: d.followers.rows.map((r, i) => ({ key: r.platform, label: platformLabel(r.platform, f.locale), email: f.num(r.email), imported: f.num(r.imported), both: f.num(r.both), total: f.num(r.total), bar: followerBars[i]! })),
    },
    social: {
      reviews: f.num(sp.reviews),
      averageRating: sp.averageRating === null ? "—" : formatNumber(Math.round(sp.averageRating * 100) / 100, f.locale),
      verifiedShare: f.pct(sp.verifiedShare),
      questionsAsked: f.num(sp.questionsAsked),
      questionsAnswered: f.num(sp.questionsAnswered),
      median: sp.medianFirstAnswerMs === null ? "—" : describeDuration(sp.medianFirstAnswerMs, t),
      medianUnder12h: sp.medianFirstAnswerMs !== null && sp.medianFirstAnswerMs < 12 * 3_600_000,
      unanswered: sp.unansweredOver12h,
      unansweredText: f.num(sp.unansweredOver12h),
      chart: {
        ...monthsChart,
        yMax: f.num(monthsChart.max),
        summary: sp.reviews === 0 ? t("analytics.reviews.none") : t("analytics.reviews.summary", { count: sp.reviews, months: sp.months.length, avg: formatNumber(Math.round((sp.averageRating ?? 0) * 100) / 100, f.locale), verified: f.pct(sp.verifiedShare) }),
        xStart: sp.months.length ? f.month(sp.months[0]!.month) : "",
        xEnd: sp.months.length ? f.month(sp.months[sp.months.length - 1]!.month) : "",
      },
      months: sp.months.map((m) => ({
        label: f.month(m.month),
        reviews: f.num(m.reviews),
        average: m.averageRating === null ? "—" : formatNumber(Math.round(m.averageRating * 100) / 100, f.locale),
        verified: f.pct(m.verifiedShare),
      })),
    },
    onboarding: onboarding && !onboarding.dismissed && !onboarding.complete ? onboardingView(onboarding, f) : null,
  };
}

function onboardingView(o: Onboarding, f: Formats) {
  return {
    ...o,
    progress: f.t("analytics.onboarding.progress", { done: o.done, total: o.total }),
    pct: Math.round((o.done / o.total) * 100),
    rest: 100 - Math.round((o.done / o.total) * 100),
    steps: o.steps.map((s) => ({ ...s, title: f.t(`analytics.onboarding.${s.id}.title`), hint: f.t(`analytics.onboarding.${s.id}.hint`) })),
  };
}

/** "Instagram $120 (3 orders), TikTok $80 (2 orders)": the bar list in words. */
function summaryOf(rows: ReturnType<typeof tableRows>, t: T) {
  return rows.map((r) => t("analytics.barSummary", { label: r.label, revenue: r.revenue, orders: r.orders })).join("; ");
}

/** One object's panel (post, link, live session, product, coupon). */
export function objectPanelView(o: { kind: string; id: string; range: DayRange; metrics: Metrics; previous: Metrics; series: { day: number; metrics: Metrics }[] }, f: Formats, today: number, basePath: string) {
  const t = f.t;
  const fn = funnelOf(o.metrics);
  const steps = [
    { id: "clicks", value: fn.clicks },
    { id: "productViews", value: fn.productViews },
    { id: "carts", value: fn.carts },
    { id: "checkouts", value: fn.checkouts },
    { id: "paid", value: fn.paid },
  ];
  const bars = barRows(
    steps.map((s) => s.value),
    f.rtl,
  );
  const chart = revenueChart({ series: o.series, previousSeries: [], range: o.range }, f, `object-chart-${o.kind}`);
  const k = kpisOf(o.metrics);
  return {
    kind: o.kind,
    id: o.id,
    basePath,
    range: rangeView(o.range, f, today),
    previousLabel: f.range(o.range.from - (o.range.to - o.range.from + 1), o.range.from - 1),
    tiles: [
      { label: t("analytics.kpi.revenue"), value: f.money(o.metrics.revenueMinor), previous: f.money(o.previous.revenueMinor), change: f.change(o.metrics.revenueMinor, o.previous.revenueMinor) },
      { label: t("analytics.kpi.orders"), value: f.num(o.metrics.orders), previous: f.num(o.previous.orders), change: f.change(o.metrics.orders, o.previous.orders) },
      { label: t("analytics.kpi.aov"), value: k.averageOrderMinor === null ? "—" : f.money(k.averageOrderMinor), previous: "", change: null },
      ...(o.kind === "coupon"
        ? [
            { label: t("analytics.col.applications"), value: f.num(o.metrics.couponApplications), previous: f.num(o.previous.couponApplications), change: f.change(o.metrics.couponApplications, o.previous.couponApplications) },
            { label: t("analytics.col.discount"), value: f.money(o.metrics.discountMinor), previous: f.money(o.previous.discountMinor), change: f.change(o.metrics.discountMinor, o.previous.discountMinor) },
          ]
        : [{ label: t("analytics.col.visits"), value: f.num(o.metrics.visits), previous: f.num(o.previous.visits), change: f.change(o.metrics.visits, o.previous.visits) }]),
    ],
    funnel: steps.map((s, i) => ({
      label: t(`analytics.funnel.${s.id}`),
      value: f.num(s.value),
      bar: bars[i]!,
      ofPrevious: i > 0 && steps[i - 1]!.value > 0 ? f.pct(s.value / steps[i - 1]!.value) : null,
    })),
    funnelSummary: t("analytics.funnel.summary", { clicks: fn.clicks, views: fn.productViews, carts: fn.carts, checkouts: fn.checkouts, paid: fn.paid }),
    chart,
  };
}

export function previousLabelFor(range: DayRange, f: Formats) {
  return f.range(range.from - (range.to - range.from + 1), range.from - 1);
}
