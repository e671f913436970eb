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

const CHUNK = 5_000;

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
 * Figures for [from, to). Reads events in chunks of 5,000 (keyset on at, id),
 * so memory stays flat however busy the day was.
 */
export async function aggregateWindow(deps: Pick<Deps, "db" | "shop">, window: { from: Date; to: Date }, series: { dimension: Dimension; key: string } = { dimension: "total", key: "all" }): Promise<WindowResult> {
  const acc = new Accumulator(rowKey(series.dimension, series.key));
  const events: { type: string; at: Date; visitorKey: string | null; productId: string | null; postId: string | null; linkId: string | null; liveSessionId: string | null; couponId: string | null; channel: string | null; valueMinor: number | null; meta: string }[] = [];
  let cursor: { at: Date; id: string } | null = null;
  for (;;) {
    const page: ((typeof events)[number] & { id: string })[] = await deps.db.analyticsEvent.findMany({
      where: {
        at: { gte: window.from, lt: window.to },
        // Orders are counted from Order rows; their events are the log.
        type: { notIn: ["checkout_start", "order_paid"] },
        ...(cursor ? { OR: [{ at: { gt: cursor.at } }, { at: cursor.at, id: { gt: cursor.id } }] } : {}),
      },
      select: { id: true, type: true, at: true, visitorKey: true, productId: true, postId: true, linkId: true, liveSessionId: true, couponId: true, channel: true, valueMinor: true, meta: true },
      orderBy: [{ at: "asc" }, { id: "asc" }],
      take: CHUNK,
    });
    for (const e of page) events.push(e);
    if (page.length < CHUNK) break;
    const last = page[page.length - 1]!;
    cursor = { at: last.at, id: last.id };
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

  const lookups = await loadLookups(deps, [...events, ...started, ...paid]);

  for (const e of events) {
    const day = dayOf(e.at);
    let keys = acc.keysFor(e, lookups, e.productId ? [e.productId] : [], e.couponId);
    if (e.type === "follow") {
      // A follow belongs to the platform followed on, whatever link brought the person.
      const platform = safeMeta(e.meta).platform;
      if (typeof platform === "string" && platform) keys = keys.map((k) => (k.startsWith("platform\u0000") ? rowKey("platform", platform) : k));
    }
    const metric = EVENT_METRIC[e.type as EventType];
    if (metric) acc.add(keys, day, { [metric]: 1 });
    if (e.type === "refund") acc.add(keys, day, { refunds: 1, refundedMinor: e.valueMinor ?? 0 });
    if (e.visitorKey) acc.visit(keys, day, e.visitorKey);
  }

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

  return { ...acc.result(), events: events.length };
}

function couponIdsOf(o: { couponId: string | null; redemptions: { couponId: string }[] }): string[] {
  return [...new Set([...(o.couponId ? [o.couponId] : []), ...o.redemptions.map((r) => r.couponId)])];
}

function safeMeta(meta: string): Record<string, unknown> {
  try {
    return JSON.parse(meta) as Record<string, unknown>;
  } catch {
    return {};
  }
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
  private readonly visitors = new Map<string, Set<string>>();

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

  /** Visits are distinct visitors per row per day (visitor-days), so they add up across days. */
  visit(keys: string[], day: number, visitorKey: string) {
    for (const k of keys) {
      const id = `${k}\u0000${day}`;
      let set = this.visitors.get(id);
      if (!set) this.visitors.set(id, (set = new Set()));
      if (set.has(visitorKey)) continue;
      set.add(visitorKey);
      this.add([k], day, { visits: 1 });
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
