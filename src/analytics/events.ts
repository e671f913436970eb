import { createHash, randomBytes } from "node:crypto";
import type { Request } from "express";
import type { Db, Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { ATTRIBUTION_COOKIE, ATTRIBUTION_WINDOW_MS, parseAttributionCookie } from "../links/attribution.js";
import { automatedReason } from "../links/bots.js";
import { dayOf } from "./days.js";
import { hostOf, platformFromHost, platformFromText, platformOf } from "./platforms.js";

/**
 * The one analytics event writer (see README.md beside this file).
 *
 * `recordEvent(deps, event, req)` never waits for the database and never
 * throws: it filters bots, applies Sec-GPC, drops reloads within a minute,
 * and puts the event in an in-process buffer. The buffer is written in
 * batches (one INSERT per batch) a couple of seconds later, or at once when
 * it holds a full batch; `flushEvents(deps)` writes what is left (shutdown,
 * tests). The work that needs the database (checking the attribution cookie
 * against its click, the day's salt for the visitor key, variant → product)
 * happens at flush, once per batch, not in the request.
 */
export const EVENT_TYPES = [
  "product_view",
  "post_view",
  "gallery_view",
  "link_click",
  "add_to_cart",
  "checkout_start",
  "order_paid",
  "refund",
  "live_join",
  "live_claim",
  "follow",
  "coupon_applied",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Reloads of these within a minute by the same visitor count once. Actions (cart, checkout, payment) have their own idempotency. */
const DEDUPED: ReadonlySet<EventType> = new Set(["product_view", "post_view", "gallery_view", "link_click", "live_join"]);
export const DEDUPE_WINDOW_MS = 60_000;

export type MetaValue = string | number | boolean;

export interface AnalyticsEventInput {
  type: EventType;
  productId?: string | null;
  /** Resolved to its product at flush when `productId` is not given (add to cart, live claims). */
  variantId?: string | null;
  postId?: string | null;
  linkId?: string | null;
  liveSessionId?: string | null;
  orderId?: string | null;
  couponId?: string | null;
  /** A typed coupon code, resolved to its coupon at flush; the code itself is never stored (personal codes name a person). */
  couponCode?: string | null;
  channel?: string | null;
  valueMinor?: number | null;
  /** The browser's visitor id when the caller knows it better than the request (a first link click makes it). */
  visitorId?: string | null;
  /** Small facts about the event. Never personal data: no emails, names, handles, addresses, full URLs. */
  meta?: Record<string, MetaValue | null | undefined>;
}

/** What of the request an event needs. An Express Request fits. */
export type RequestLike = Pick<Request, "method" | "get" | "ip" | "query"> & { cookies?: Record<string, unknown> };

interface Buffered {
  input: AnalyticsEventInput;
  at: Date;
  gpc: boolean;
  /** The bz_attr cookie's halves, checked against LinkClick at flush. */
  cookie: { clickId: string; visitorId: string } | null;
  /** SHA-256 of address + browser, kept in memory for seconds and never stored: what the day's visitor key is made of. */
  addressHash: string | null;
  source: string | null;
  attempts: number;
}

export interface WriterOptions {
  /** How long an event may wait in the buffer before it is written. */
  flushMs: number;
  /** Events per INSERT. */
  batchSize: number;
  /** Past this, new events are dropped (and counted in the log) rather than grow memory while the database is away. */
  maxBuffered: number;
}

export const DEFAULT_WRITER_OPTIONS: WriterOptions = { flushMs: 2_000, batchSize: 500, maxBuffered: 10_000 };

const MAX_ATTEMPTS = 3;
const DEDUPE_MAX_KEYS = 50_000;

class EventWriter {
  private buffer: Buffered[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;
  private readonly recent = new Map<string, number>();
  private readonly salts = new Map<number, Promise<string>>();
  private socialArrivalNoted = false;

  constructor(
    private readonly db: Db,
    private deps: Pick<Deps, "logger" | "now">,
    readonly options: WriterOptions,
  ) {}

  push(deps: Pick<Deps, "logger" | "now">, input: AnalyticsEventInput, req: RequestLike | undefined) {
    this.deps = deps;
    const at = deps.now();
    let gpc = false;
    let cookie: Buffered["cookie"] = null;
    let addressHash: string | null = null;
    let source: string | null = null;
    if (req) {
      // Link previews, crawlers, HEAD and prefetches are not shoppers (the same judge as link clicks).
      if (automatedReason(req) !== null) return;
      gpc = req.get("sec-gpc")?.trim() === "1";
      cookie = parseAttributionCookie(req.cookies?.[ATTRIBUTION_COOKIE]);
      addressHash = createHash("sha256").update(`${req.ip ?? ""}\n${req.get("user-agent") ?? ""}`).digest("base64url");
      const utm = typeof req.query?.utm_source === "string" ? req.query.utm_source : null;
      source = platformFromText(utm) ?? platformFromHost(hostOf(req.get("referer")));
      if (DEDUPED.has(input.type) && this.seenRecently(input, input.visitorId ?? cookie?.visitorId ?? addressHash, at.getTime())) return;
    }
    if (this.buffer.length >= this.options.maxBuffered) {
      this.dropped += 1;
      return;
    }
    this.buffer.push({ input, at, gpc, cookie, addressHash, source, attempts: 0 });
    if (this.buffer.length >= this.options.batchSize) this.schedule(0);
    else this.schedule(this.options.flushMs);
  }

  /** True when the same visitor had the same event on the same object within the last minute (a reload). */
  private seenRecently(input: AnalyticsEventInput, who: string, now: number): boolean {
    const key = [input.type, input.productId, input.postId, input.linkId, input.liveSessionId, who].join("|");
    // Entries are kept in insertion order of their last sighting, so the oldest are at the front.
    for (const [k, seenAt] of this.recent) {
      if (now - seenAt < DEDUPE_WINDOW_MS && this.recent.size < DEDUPE_MAX_KEYS) break;
      this.recent.delete(k);
    }
    const last = this.recent.get(key);
    if (last !== undefined && now - last < DEDUPE_WINDOW_MS && now >= last) return true;
    this.recent.delete(key);
    this.recent.set(key, now);
    return false;
  }

  private schedule(ms: number) {
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    // A one-shot timer armed only while events wait (not a periodic loop):
    // an idle shop schedules nothing, and it never keeps the process alive.
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flushOnce();
    }, ms);
    this.timer.unref();
  }

  /** Writes one batch; errors are logged, never thrown (nobody is waiting on an event). False when the write failed. */
  private flushOnce(): Promise<boolean> {
    const run = this.flushing.then(async () => {
      const batch = this.buffer.splice(0, this.options.batchSize);
      if (this.dropped > 0) {
        this.deps.logger.warn({ dropped: this.dropped }, "analytics buffer full: events dropped");
        this.dropped = 0;
      }
      let ok = true;
      if (batch.length > 0) {
        try {
          await this.write(batch);
        } catch (err) {
          ok = false;
          const retry = batch.filter((e) => ++e.attempts < MAX_ATTEMPTS);
          this.deps.logger.error({ err, events: batch.length, retrying: retry.length }, "analytics events could not be written");
          const room = this.options.maxBuffered - this.buffer.length;
          this.buffer.unshift(...retry.slice(0, Math.max(0, room)));
        }
      }
      if (this.buffer.length > 0) this.schedule(ok && this.buffer.length >= this.options.batchSize ? 0 : this.options.flushMs);
      return ok;
    });
    this.flushing = run.then(() => undefined);
    return run;
  }

  /** Writes everything buffered now (shutdown, tests); after a failed write the rest waits for the next timed attempt. */
  async flushAll(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.flushing;
    for (let guard = 0; this.buffer.length > 0 && guard < 1000; guard++) {
      if (!(await this.flushOnce())) break;
    }
  }

  private async write(batch: Buffered[]) {
    const clicks = await this.clicksFor(batch);
    const products = await this.productsOfVariants(batch);
    const coupons = await this.couponsOfCodes(batch);
    const rows: Prisma.AnalyticsEventCreateManyInput[] = [];
    for (const e of batch) {
      const i = e.input;
      const row: Prisma.AnalyticsEventCreateManyInput = {
        type: i.type,
        at: e.at,
        productId: i.productId ?? (i.variantId ? (products.get(i.variantId) ?? null) : null),
        postId: i.postId ?? null,
        linkId: i.linkId ?? null,
        liveSessionId: i.liveSessionId ?? null,
        orderId: i.orderId ?? null,
        couponId: i.couponId ?? null,
        channel: i.channel || null,
        valueMinor: i.valueMinor ?? null,
        source: e.source,
        meta: metaJson(i.meta),
      };
      // Attribution: the browser's last counted click, if the cookie matches it
      // and it is within the 7-day window (the same rule as orders).
      const click = e.cookie ? clicks.get(e.cookie.clickId) : undefined;
      const age = click ? e.at.getTime() - click.at.getTime() : NaN;
      const verified = click && click.visitorId === e.cookie!.visitorId && age <= ATTRIBUTION_WINDOW_MS && age >= -60_000 ? click : null;
      // Field by field: what the caller named stays (a post page names the post
      // viewed, a link click names its own link); the rest comes from the click.
      if (verified && i.linkId === undefined) {
        row.linkId = verified.link.id;
        if (i.postId === undefined) row.postId = verified.link.postId;
        if (i.liveSessionId === undefined) row.liveSessionId = verified.link.liveSessionId;
        if (i.channel === undefined) row.channel = verified.link.channel || null;
      }
      if (i.type === "follow" && typeof i.meta?.platform === "string") row.platform = i.meta.platform;
      if (i.couponCode && !row.couponId) {
        const found = coupons.get(i.couponCode.toUpperCase());
        row.couponId = found?.couponId ?? null;
        if (found) row.meta = metaJson({ ...i.meta, personalCode: found.personal });
      }
      // Sec-GPC: counted, but with nothing that tells one visitor from another.
      if (!e.gpc) {
        const visitorId = i.visitorId ?? (verified ? e.cookie!.visitorId : null);
        row.visitorId = visitorId;
        // The address + browser first: the same person before and after their first link click is one visit.
        const who = e.addressHash ?? visitorId;
        if (who) row.visitorKey = createHash("sha256").update(`${await this.saltFor(dayOf(e.at))}\n${who}`).digest("base64url").slice(0, 22);
      }
      rows.push(row);
    }
    await this.placeRows(rows);
    await this.db.analyticsEvent.createMany({ data: rows });
    // The onboarding step "gallery link in the bio" is done by the first arrival from a social platform;
    // noted once here, so the dashboard never searches the events for it.
    if (!this.socialArrivalNoted && rows.some((r) => r.source && (r.type === "gallery_view" || r.type === "link_click"))) {
      await this.db.setting.upsert({ where: { key: SOCIAL_ARRIVAL_KEY }, create: { key: SOCIAL_ARRIVAL_KEY, value: "1" }, update: {} });
      this.socialArrivalNoted = true;
    }
    // Events for a day that was already rolled up (a flush delayed past
    // midnight, a clock in a test): that day is folded again by the next run.
    const today = dayOf(this.deps.now());
    const pastDays = [...new Set(rows.map((r) => dayOf(r.at as Date)))].filter((d) => d < today);
    if (pastDays.length > 0) await this.db.analyticsDay.updateMany({ where: { day: { in: pastDays } }, data: { dirty: true } });
  }

  /**
   * The platform and host rows each event counts on, worked out once here
   * from its link, post and live session, so the roll-up can group on columns.
   */
  private async placeRows(rows: Prisma.AnalyticsEventCreateManyInput[]) {
    const linkIds = [...new Set(rows.flatMap((r) => (r.linkId ? [r.linkId] : [])))];
    const postIds = [...new Set(rows.flatMap((r) => (r.postId ? [r.postId] : [])))];
    const liveIds = [...new Set(rows.flatMap((r) => (r.liveSessionId ? [r.liveSessionId] : [])))];
    const [links, posts, lives] = await Promise.all([
      linkIds.length ? this.db.shortLink.findMany({ where: { id: { in: linkIds } }, select: { id: true, utmSource: true, hostName: true } }) : [],
      postIds.length ? this.db.post.findMany({ where: { id: { in: postIds } }, select: { id: true, platform: true } }) : [],
      liveIds.length ? this.db.liveSession.findMany({ where: { id: { in: liveIds } }, select: { id: true, platform: true, hostName: true } }) : [],
    ]);
    const link = new Map(links.map((l) => [l.id, l]));
    const post = new Map(posts.map((p) => [p.id, p]));
    const live = new Map(lives.map((l) => [l.id, l]));
    for (const r of rows) {
      const l = r.linkId ? link.get(r.linkId) : undefined;
      const s = r.liveSessionId ? live.get(r.liveSessionId) : undefined;
      r.platform ??= platformOf({ postPlatform: r.postId ? post.get(r.postId)?.platform : null, livePlatform: s?.platform, channel: r.channel, utmSource: l?.utmSource, linkId: r.linkId });
      r.host = l?.hostName || s?.hostName || null;
    }
  }

  private async clicksFor(batch: Buffered[]) {
    const ids = [...new Set(batch.flatMap((e) => (e.cookie ? [e.cookie.clickId] : [])))];
    if (ids.length === 0) return new Map();
    const rows = await this.db.linkClick.findMany({
      where: { id: { in: ids } },
      select: { id: true, visitorId: true, at: true, link: { select: { id: true, postId: true, liveSessionId: true, channel: true } } },
    });
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async productsOfVariants(batch: Buffered[]) {
    const ids = [...new Set(batch.flatMap((e) => (e.input.variantId && !e.input.productId ? [e.input.variantId] : [])))];
    if (ids.length === 0) return new Map<string, string>();
    const rows = await this.db.variant.findMany({ where: { id: { in: ids } }, select: { id: true, productId: true } });
    return new Map(rows.map((r) => [r.id, r.productId]));
  }

  private async couponsOfCodes(batch: Buffered[]) {
    const codes = [...new Set(batch.flatMap((e) => (e.input.couponCode && !e.input.couponId ? [e.input.couponCode.toUpperCase()] : [])))];
    const out = new Map<string, { couponId: string; personal: boolean }>();
    if (codes.length === 0) return out;
    const [coupons, personal] = await Promise.all([
      this.db.coupon.findMany({ where: { code: { in: codes } }, select: { id: true, code: true } }),
      this.db.personalCode.findMany({ where: { code: { in: codes } }, select: { couponId: true, code: true } }),
    ]);
    for (const c of coupons) out.set(c.code, { couponId: c.id, personal: false });
    for (const p of personal) out.set(p.code, { couponId: p.couponId, personal: true });
    return out;
  }

  /** The day's random salt, shared by every instance through the database; the retention job deletes it after two days. */
  private saltFor(day: number): Promise<string> {
    let salt = this.salts.get(day);
    if (!salt) {
      salt = readOrCreateSalt(this.db, day);
      salt.catch(() => this.salts.delete(day));
      this.salts.set(day, salt);
      for (const d of this.salts.keys()) if (d < day - 2) this.salts.delete(d);
    }
    return salt;
  }
}

export const SALT_PREFIX = "analytics.salt.";
/** Set once someone arrived at the gallery or a tracked link from a social platform (onboarding). */
export const SOCIAL_ARRIVAL_KEY = "onboarding.social_arrival";

async function readOrCreateSalt(db: Db, day: number): Promise<string> {
  const key = `${SALT_PREFIX}${day}`;
  // The update is empty: when two instances race, the first salt stays.
  const row = await db.setting.upsert({ where: { key }, create: { key, value: randomBytes(32).toString("base64url") }, update: {} }).catch(async () => db.setting.findUniqueOrThrow({ where: { key } }));
  return row.value;
}

function metaJson(meta: AnalyticsEventInput["meta"]): string {
  if (!meta) return "{}";
  const out: Record<string, MetaValue> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v.slice(0, 200) : v;
  }
  return JSON.stringify(out);
}

const writers = new WeakMap<Db, EventWriter>();

function writerFor(deps: Pick<Deps, "db" | "logger" | "now">): EventWriter {
  let writer = writers.get(deps.db);
  if (!writer) {
    writer = new EventWriter(deps.db, deps, { ...DEFAULT_WRITER_OPTIONS });
    writers.set(deps.db, writer);
  }
  return writer;
}

/**
 * Records an analytics event off the request path. Pass the shopper's request
 * when there is one (bot filter, Sec-GPC, visitor, attribution cookie, reload
 * filter); leave it out for server-side events (payments, refunds).
 * Never throws and never waits.
 */
export function recordEvent(deps: Pick<Deps, "db" | "logger" | "now">, event: AnalyticsEventInput, req?: RequestLike): void {
  try {
    writerFor(deps).push(deps, event, req);
  } catch (err) {
    deps.logger.error({ err, type: event.type }, "analytics event not recorded");
  }
}

/**
 * Writes an event inside the caller's transaction, for the few events whose
 * figures must agree exactly with money that moved in that transaction
 * (refunds: Stripe dashboard refunds leave no other dated trace).
 */
export async function recordEventInTx(tx: Prisma.TransactionClient, deps: Pick<Deps, "now">, event: Omit<AnalyticsEventInput, "visitorId" | "variantId" | "couponCode">) {
  await tx.analyticsEvent.create({
    data: {
      type: event.type,
      at: deps.now(),
      productId: event.productId ?? null,
      postId: event.postId ?? null,
      linkId: event.linkId ?? null,
      liveSessionId: event.liveSessionId ?? null,
      orderId: event.orderId ?? null,
      couponId: event.couponId ?? null,
      channel: event.channel || null,
      valueMinor: event.valueMinor ?? null,
      meta: metaJson(event.meta),
    },
  });
}

/** Writes every buffered event now. Call on shutdown before closing the database; tests call it before counting. */
export async function flushEvents(deps: Pick<Deps, "db">): Promise<void> {
  await writers.get(deps.db)?.flushAll();
}

/** Tuning for tests and benchmarks (smaller buffers, shorter waits). */
export function configureEventWriter(deps: Pick<Deps, "db" | "logger" | "now">, options: Partial<WriterOptions>) {
  Object.assign(writerFor(deps).options, options);
}

