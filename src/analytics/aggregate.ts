import { Prisma } from "../generated/prisma/client.js";
import type { Deps } from "../deps.js";
import { dayOf, DAY_MS } from "./days.js";
import type { EventType } from "./events.js";
import { platformOf } from "./platforms.js";

/**
 * Folds one time window of raw data into figures per dimension. The roll-up
 * job runs it for a closed UTC day and stores the result; the dashboard runs
 * it for today (and any day the job has not reached yet), so both always
 * agree.
 *
 * Sources: events for what shoppers did (clicks, views, carts, coupon codes,
 * follows, live joins and claims, refunds); Order rows for checkouts (orders
 * created), paid orders, revenue, units and discounts, because orders are the
 * record of money and are never deleted, so a day can be folded again at any
 * time and a lost event can never change revenue.
 */
export const METRICS = [
  "visits",
  "clicks",
  "productViews",
  "postViews",
  "galleryViews",
  "carts",
  "checkouts",
  "orders",
  "units",
  "revenueMinor",
  "discountMinor",
  "refunds",
  "refundedMinor",
  "couponApplications",
  "follows",
  "liveJoins",
  "liveClaims",
  "otherCurrencyOrders",
] as const;
export type Metric = (typeof METRICS)[number];
export type Metrics = Record<Metric, number>;

/** "coupons" has two keys, "any" and "followers": orders that used any code / a follower-only code, each order once. */
export const DIMENSIONS = ["total", "channel", "platform", "post", "link", "live", "host", "product", "coupon", "coupons"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface Row {
  dimension: Dimension;
  key: string;
  metrics: Metrics;
}

export const emptyMetrics = (): Metrics => Object.fromEntries(METRICS.map((m) => [m, 0])) as Metrics;

export function addMetrics(into: Metrics, from: Partial<Metrics>) {
  for (const m of METRICS) into[m] += from[m] ?? 0;
  return into;
}

const rowKey = (dimension: string, key: string) => `${dimension}\u0000${key}`;

/** The attribution an event or an order carries. */
interface Attributed {
  linkId: string | null;
  postId: string | null;
  liveSessionId: string | null;
  channel: string | null;
}

interface Lookups {
  links: Map<string, { code: string; hostName: string; utmSource: string }>;
  posts: Map<string, { platform: string }>;
  lives: Map<string, { platform: string; hostName: string }>;
  followerCoupons: Set<string>;
}

const EVENT_METRIC: Partial<Record<EventType, Metric>> = {
  link_click: "clicks",
  product_view: "productViews",
  post_view: "postViews",
  gallery_view: "galleryViews",
  add_to_cart: "carts",
  coupon_applied: "couponApplications",
  follow: "follows",
  live_join: "liveJoins",
  live_claim: "liveClaims",
};

export interface WindowResult {
  rows: Map<string, Row>;
  /** Each UTC day's figures of the series row (the shop's total unless asked otherwise): the charts. */
  series: Map<number, Metrics>;
  /** Raw events read. */
  events: number;
}

/**
 * Figures for [from, to), one UTC day at a time (visits are distinct
 * visitors per day). Events are grouped in the database, so what comes back
 * is a few rows per object and event type however busy the day was.
 */
export async function aggregateWindow(deps: Pick<Deps, "db" | "shop">, window: { from: Date; to: Date }, series: { dimension: Dimension; key: string } = { dimension: "total", key: "all" }): Promise<WindowResult> {
  const acc = new Accumulator(rowKey(series.dimension, series.key));
  let events = 0;
  for (let day = dayOf(window.from); day * DAY_MS < window.to.getTime(); day++) {
    const from = new Date(Math.max(window.from.getTime(), day * DAY_MS));
    const to = new Date(Math.min(window.to.getTime(), (day + 1) * DAY_MS));
    events += await foldEvents(deps, acc, day, { from, to });
  }

  const orderSelect = {
    id: true,
    currency: true,
    totalMinor: true,
    discountMinor: true,
    createdAt: true,
    paidAt: true,
    linkId: true,
    postId: true,
    liveSessionId: true,
    channel: true,
    couponId: true,
    lines: { select: { productId: true, quantity: true, totalMinor: true } },
    redemptions: { where: { status: "committed" }, select: { couponId: true, discountMinor: true } },
  } as const;
  const [started, paid] = await Promise.all([
    deps.db.order.findMany({ where: { createdAt: { gte: window.from, lt: window.to } }, select: orderSelect, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    deps.db.order.findMany({ where: { paidAt: { gte: window.from, lt: window.to } }, select: orderSelect, orderBy: [{ paidAt: "asc" }, { id: "asc" }] }),
  ]);

  const lookups = await loadLookups(deps, [...started, ...paid]);

  for (const o of started) {
    const products = [...new Set(o.lines.flatMap((l) => (l.productId ? [l.productId] : [])))];
    acc.add(acc.keysFor(o, lookups, products, null, couponIdsOf(o)), dayOf(o.createdAt), { checkouts: 1 });
  }

  for (const o of paid) {
    const day = dayOf(o.paidAt!);
    if (o.currency !== deps.shop.currency) {
      acc.add([rowKey("total", "all")], day, { otherCurrencyOrders: 1 });
      continue;
    }
    const coupons = couponIdsOf(o);
    const keys = acc.keysFor(o, lookups, [], null, coupons);
    const units = o.lines.reduce((n, l) => n + l.quantity, 0);
    // The order's own figures on every row but products and coupons, which get their share below.
    const own = keys.filter((k) => !k.startsWith("product\u0000") && !k.startsWith("coupon\u0000"));
    acc.add(own, day, { orders: 1, units, revenueMinor: o.totalMinor, discountMinor: o.discountMinor });
    const byProduct = new Map<string, { units: number; revenueMinor: number }>();
    for (const l of o.lines) {
      if (!l.productId) continue;
      const p = byProduct.get(l.productId) ?? { units: 0, revenueMinor: 0 };
      p.units += l.quantity;
      p.revenueMinor += l.totalMinor;
      byProduct.set(l.productId, p);
    }
    for (const [productId, p] of byProduct) acc.add([rowKey("product", productId)], day, { orders: 1, ...p });
    for (const couponId of coupons) {
      const discount = o.redemptions.filter((r) => r.couponId === couponId).reduce((n, r) => n + r.discountMinor, 0);
      acc.add([rowKey("coupon", couponId)], day, { orders: 1, units, revenueMinor: o.totalMinor, discountMinor: o.redemptions.length ? discount : o.discountMinor });
    }
    if (coupons.length > 0) {
      acc.add([rowKey("coupons", "any")], day, { orders: 1, revenueMinor: o.totalMinor, discountMinor: o.discountMinor });
      if (coupons.some((c) => lookups.followerCoupons.has(c))) acc.add([rowKey("coupons", "followers")], day, { orders: 1, revenueMinor: o.totalMinor, discountMinor: o.discountMinor });
    }
  }

  return { ...acc.result(), events };
}

/** Orders are counted from Order rows; their events are only the log. */
const ORDER_EVENTS = ["checkout_start", "order_paid"];

const CHANNEL_KEY = `COALESCE("channel", CASE WHEN "linkId" IS NULL THEN 'direct' ELSE 'untagged' END)`;

/**
 * The parts of one statement over a day's events, each a GROUP BY on plain
 * columns, joined with UNION ALL (portable): counts per event type for
 * channel × platform × host, for link × post × live session, for products
 * and for coupons; distinct visitors ("_visits") per key of the dimensions
 * that show visits; and events written without a platform, by attribution.
 * Every part returns (d, k1, k2, k3, t, n, v). The SQL text is constant.
 */
const EVENT_PARTS: { d: string; keys: [string, string, string]; t: string; n: string; where: string; group: string }[] = [
  { d: "reach", keys: [CHANNEL_KEY, `"platform"`, `"host"`], t: `"type"`, n: "COUNT(*)", where: "", group: `GROUP BY ${CHANNEL_KEY}, "platform", "host", "type"` },
  { d: "attribution", keys: [`"linkId"`, `"postId"`, `"liveSessionId"`], t: `"type"`, n: "COUNT(*)", where: `AND ("linkId" IS NOT NULL OR "postId" IS NOT NULL OR "liveSessionId" IS NOT NULL)`, group: `GROUP BY "linkId", "postId", "liveSessionId", "type"` },
  { d: "product", keys: [`"productId"`, "NULL", "NULL"], t: `"type"`, n: "COUNT(*)", where: `AND "productId" IS NOT NULL`, group: `GROUP BY "productId", "type"` },
  { d: "coupon", keys: [`"couponId"`, "NULL", "NULL"], t: `"type"`, n: "COUNT(*)", where: `AND "couponId" IS NOT NULL`, group: `GROUP BY "couponId", "type"` },
  { d: "unplaced", keys: [`"linkId"`, `"postId"`, `"liveSessionId"`], t: `"type"`, n: "COUNT(*)", where: `AND "platform" IS NULL`, group: `GROUP BY "linkId", "postId", "liveSessionId", "channel", "type"` },
  ...(
    [
      ["total", `'all'`, ""],
      ["channel", CHANNEL_KEY, ""],
      ["platform", `"platform"`, `AND "platform" IS NOT NULL`],
      ["host", `"host"`, `AND "host" IS NOT NULL`],
      ["coupon", `"couponId"`, `AND "couponId" IS NOT NULL`],
      ["post", `"postId"`, `AND "postId" IS NOT NULL`],
      ["link", `"linkId"`, `AND "linkId" IS NOT NULL`],
      ["live", `"liveSessionId"`, `AND "liveSessionId" IS NOT NULL`],
      ["product", `"productId"`, `AND "productId" IS NOT NULL`],
    ] as const
  ).map(([d, key, where]) => ({
    d,
    keys: [key, "NULL", "NULL"] as [string, string, string],
    t: `'_visits'`,
    n: `COUNT(DISTINCT "visitorKey")`,
    where: `AND "visitorKey" IS NOT NULL ${where}`,
    group: d === "total" ? "" : `GROUP BY ${key}`,
  })),
];

function eventCountsSql(w: { from: Date; to: Date }) {
  const inWindow = Prisma.sql`"at" >= ${w.from} AND "at" < ${w.to} AND "type" NOT IN (${Prisma.join(ORDER_EVENTS)})`;
  return Prisma.join(
    EVENT_PARTS.map(
      (p) =>
        Prisma.sql`SELECT ${Prisma.raw(`'${p.d}' AS "d", ${p.keys[0]} AS "k1", ${p.keys[1]} AS "k2", ${p.keys[2]} AS "k3", ${p.t} AS "t", ${p.n} AS "n"`)}, ${Prisma.raw(p.d === "unplaced" ? `MAX("channel")` : "NULL")} AS "c", SUM(COALESCE("valueMinor", 0)) AS "v" FROM "AnalyticsEvent" WHERE ${inWindow} ${Prisma.raw(p.where)} ${Prisma.raw(p.group)}`,
    ),
    " UNION ALL ",
  );
}

type CountRow = { d: string; k1: string | null; k2: string | null; k3: string | null; t: string; n: unknown; c: string | null; v: unknown };

/** Folds one day's events into the accumulator; returns how many events there were. */
async function foldEvents(deps: Pick<Deps, "db">, acc: Accumulator, day: number, w: { from: Date; to: Date }): Promise<number> {
  const rows = await deps.db.$queryRaw<CountRow[]>`${eventCountsSql(w)}`;
  let events = 0;
  const unplaced: CountRow[] = [];
  const figures = (t: string, n: number, v: number): Partial<Metrics> => {
    const metric = EVENT_METRIC[t as EventType];
    return metric ? { [metric]: n } : t === "refund" ? { refunds: n, refundedMinor: v } : {};
  };
  for (const r of rows) {
    const n = Number(r.n);
    if (n === 0) continue;
    if (r.t === "_visits") {
      acc.add([rowKey(r.d, r.k1 ?? "")], day, { visits: n });
      continue;
    }
    const m = figures(r.t, n, Number(r.v ?? 0));
    switch (r.d) {
      case "reach":
        events += n;
        acc.add([rowKey("total", "all"), rowKey("channel", r.k1 ?? "direct"), ...(r.k2 ? [rowKey("platform", r.k2)] : []), ...(r.k3 ? [rowKey("host", r.k3)] : [])], day, m);
        break;
      case "attribution":
        acc.add([...(r.k1 ? [rowKey("link", r.k1)] : []), ...(r.k2 ? [rowKey("post", r.k2)] : []), ...(r.k3 ? [rowKey("live", r.k3)] : [])], day, m);
        break;
      case "product":
      case "coupon":
        acc.add([rowKey(r.d, r.k1 ?? "")], day, m);
        break;
      case "unplaced":
        unplaced.push(r);
        break;
    }
  }
  // Events written without a platform (before the column existed, or inside
  // another feature's transaction, like refunds): their platform and host
  // rows come from their link, post and live session, as the writer does.
  if (unplaced.length > 0) {
    const attributed = unplaced.map((r) => ({ linkId: r.k1, postId: r.k2, liveSessionId: r.k3, channel: r.c }));
    const lookups = await loadLookups(deps, attributed);
    for (const [i, r] of unplaced.entries()) {
      const keys = acc.keysFor(attributed[i]!, lookups, [], null).filter((k) => k.startsWith("platform\u0000") || k.startsWith("host\u0000"));
      acc.add(keys, day, figures(r.t, Number(r.n), Number(r.v ?? 0)));
    }
  }
  return events;
}

function couponIdsOf(o: { couponId: string | null; redemptions: { couponId: string }[] }): string[] {
  return [...new Set([...(o.couponId ? [o.couponId] : []), ...o.redemptions.map((r) => r.couponId)])];
}


async function loadLookups(deps: Pick<Deps, "db">, records: (Attributed & { couponId?: string | null; redemptions?: { couponId: string }[] })[]): Promise<Lookups> {
  const linkIds = new Set<string>();
  const postIds = new Set<string>();
  const liveIds = new Set<string>();
  const couponIds = new Set<string>();
  for (const r of records) {
    if (r.linkId) linkIds.add(r.linkId);
    if (r.postId) postIds.add(r.postId);
    if (r.liveSessionId) liveIds.add(r.liveSessionId);
    if (r.couponId) couponIds.add(r.couponId);
    for (const red of r.redemptions ?? []) couponIds.add(red.couponId);
  }
  const [links, posts, lives, coupons] = await Promise.all([
    linkIds.size ? deps.db.shortLink.findMany({ where: { id: { in: [...linkIds] } }, select: { id: true, code: true, hostName: true, utmSource: true } }) : [],
    postIds.size ? deps.db.post.findMany({ where: { id: { in: [...postIds] } }, select: { id: true, platform: true } }) : [],
    liveIds.size ? deps.db.liveSession.findMany({ where: { id: { in: [...liveIds] } }, select: { id: true, platform: true, hostName: true } }) : [],
    couponIds.size ? deps.db.coupon.findMany({ where: { id: { in: [...couponIds] }, followersOnly: true }, select: { id: true } }) : [],
  ]);
  return {
    links: new Map(links.map((l) => [l.id, l])),
    posts: new Map(posts.map((p) => [p.id, p])),
    lives: new Map(lives.map((l) => [l.id, l])),
    followerCoupons: new Set(coupons.map((c) => c.id)),
  };
}

class Accumulator {
  private readonly rows = new Map<string, Row>();
  private readonly series = new Map<number, Metrics>();

  constructor(private readonly seriesKey: string) {}

  /** Every row a record counts on. */
  keysFor(r: Attributed, lookups: Lookups, productIds: string[], couponId: string | null, couponIds: string[] = []): string[] {
    const link = r.linkId ? lookups.links.get(r.linkId) : undefined;
    const post = r.postId ? lookups.posts.get(r.postId) : undefined;
    const live = r.liveSessionId ? lookups.lives.get(r.liveSessionId) : undefined;
    const keys = [
      rowKey("total", "all"),
      rowKey("channel", r.channel || (r.linkId ? "untagged" : "direct")),
      rowKey("platform", platformOf({ postPlatform: post?.platform, livePlatform: live?.platform, channel: r.channel, utmSource: link?.utmSource, linkId: r.linkId })),
    ];
    if (r.postId) keys.push(rowKey("post", r.postId));
    if (r.linkId) keys.push(rowKey("link", r.linkId));
    if (r.liveSessionId) keys.push(rowKey("live", r.liveSessionId));
    const host = link?.hostName || live?.hostName;
    if (host) keys.push(rowKey("host", host));
    for (const p of productIds) keys.push(rowKey("product", p));
    for (const c of new Set([...(couponId ? [couponId] : []), ...couponIds])) keys.push(rowKey("coupon", c));
    return keys;
  }

  add(keys: string[], day: number, metrics: Partial<Metrics>) {
    for (const k of keys) {
      let row = this.rows.get(k);
      if (!row) {
        const sep = k.indexOf("\u0000");
        row = { dimension: k.slice(0, sep) as Dimension, key: k.slice(sep + 1), metrics: emptyMetrics() };
        this.rows.set(k, row);
      }
      addMetrics(row.metrics, metrics);
      if (k === this.seriesKey) {
        let t = this.series.get(day);
        if (!t) this.series.set(day, (t = emptyMetrics()));
        addMetrics(t, metrics);
      }
    }
  }

  result() {
    return { rows: this.rows, series: this.series };
  }
}

/** [start of day, start of next day) in UTC. */
export function dayWindow(day: number): { from: Date; to: Date } {
  return { from: new Date(day * DAY_MS), to: new Date((day + 1) * DAY_MS) };
}
