/**
 * npm run bench:dashboard — the analytics dashboard against the number of events.
 *
 * Seeds two shops with the same catalog (500 products, 200 posts, 100
 * tracked links, 20 live sessions): one with 1,000,000 events over 365 days
 * (one of those days with exactly 10,000), the other with 10,000; orders in
 * proportion (1.5 paid and 0.5 abandoned per 100 events). Rolls every closed
 * day up with the real job code, then measures, in alternating rounds within
 * one run, the admin home (GET /shop/admin, signed in, through a real HTTP
 * server on 127.0.0.1) for 30 and for 365 days, each beside the same template
 * rendered from an in-memory copy of the very data that page rendered
 * (captured from one real request). Today is always folded live from raw
 * events and orders, as in production. Each page is measured twice: "warm",
 * a repeated view (the dashboard keeps its figures per process and checks
 * them against one version query on every view), and "cold", with that
 * cache emptied before each request (the first view after any sale, click
 * or view, or after a minute).
 *
 * Aims (the issue's): dashboard ≤ 2× the in-memory render, for 30 and 365
 * days; with 1,000,000 events ≤ 1.5× its time with 10,000; the roll-up of
 * one day of 10,000 events < 1 s. Prints medians, ratios and met/missed.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_REQUESTS per round (default 20),
 * BENCH_EVENTS (default 1000000; the small shop has 1 %).
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import express, { type Response } from "express";
import { pino } from "pino";
import { createAdminSession, hashPassword } from "../../src/auth/auth.service.js";
import { dayOf } from "../../src/analytics/days.js";
import { platformOf } from "../../src/analytics/platforms.js";
import { clearDashboardCache } from "../../src/analytics/dashboard.service.js";
import { rollupDay, runRollup } from "../../src/analytics/rollup.service.js";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { createStorefront, type Storefront } from "../../src/storefront.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20);
const BIG = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const SMALL = Math.round(BIG / 100);
const PRODUCTS = 500;
const POSTS = 200;
const LINKS = 100;
const LIVES = 20;
const DAYS = 365;
const DAY_MS = 86_400_000;
const NOW = new Date();
const TODAY = dayOf(NOW);
/** The day that gets exactly 10,000 events in the big shop (for the roll-up timing). */
const TEN_K_DAY = TODAY - 100;

const stamp = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00");

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const TYPES: [string, number][] = [
  ["product_view", 0.52],
  ["link_click", 0.15],
  ["add_to_cart", 0.1],
  ["post_view", 0.08],
  ["gallery_view", 0.07],
  ["live_join", 0.03],
  ["coupon_applied", 0.02],
  ["follow", 0.015],
  ["live_claim", 0.01],
  ["refund", 0.005],
];
const PLATFORMS = ["instagram", "tiktok", "pinterest", "telegram", "youtube", "whatsapp"];
const CHANNELS = ["instagram-story", "instagram-bio", "tiktok-bio", "tiktok-live", "pinterest-pin", "telegram-channel", "youtube-short", "whatsapp-status", "print", "newsletter"];

/** Seeds one shop; returns how many events and orders it wrote. */
function seed(file: string, events: number, tenKDay: boolean) {
  migrateDatabase(file);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const random = rng(7);
  const at = stamp(NOW.getTime() - 400 * DAY_MS);
  const q = {
    product: db.prepare(`INSERT INTO Product (id, slug, title, status, createdAt, updatedAt) VALUES (?, ?, ?, 'active', ?, ?)`),
    variant: db.prepare(`INSERT INTO Variant (id, productId, sku, priceMinor, currency, stock, createdAt, updatedAt) VALUES (?, ?, ?, ?, 'USD', 1000, ?, ?)`),
    post: db.prepare(`INSERT INTO Post (id, platform, caption, publishedAt, status, createdAt, updatedAt) VALUES (?, ?, ?, ?, 'published', ?, ?)`),
    live: db.prepare(`INSERT INTO LiveSession (id, title, code, hostName, platform, status, startsAt, createdAt) VALUES (?, ?, ?, ?, ?, 'ended', ?, ?)`),
    link: db.prepare(`INSERT INTO ShortLink (id, code, targetType, productId, postId, liveSessionId, channel, hostName, utmSource, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    coupon: db.prepare(`INSERT INTO Coupon (id, code, kind, percentOff, followersOnly, createdAt, updatedAt) VALUES (?, ?, 'percent', 10, ?, ?, ?)`),
    event: db.prepare(
      `INSERT INTO AnalyticsEvent (id, type, at, visitorKey, productId, postId, linkId, liveSessionId, couponId, channel, valueMinor, meta, source, platform, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    order: db.prepare(
      `INSERT INTO "Order" (id, number, status, currency, subtotalMinor, discountMinor, shippingMinor, totalMinor, paymentProvider, createdAt, paidAt, updatedAt, linkId, postId, liveSessionId, channel, couponId) VALUES (?, ?, ?, 'USD', ?, ?, 500, ?, 'local', ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    line: db.prepare(`INSERT INTO OrderLine (id, orderId, variantId, productId, title, sku, unitPriceMinor, quantity, totalMinor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    redemption: db.prepare(`INSERT INTO Redemption (id, couponId, orderId, status, discountMinor, reservedAt, committedAt) VALUES (?, ?, ?, 'committed', ?, ?, ?)`),
  };
  const prices: number[] = [];
  const links: { id: string; productId: string | null; postId: string | null; liveId: string | null; channel: string; utmSource: string; host: string }[] = [];
  db.transaction(() => {
    for (let p = 0; p < PRODUCTS; p++) {
      prices.push(1500 + Math.floor(random() * 80) * 100);
      q.product.run(`prod${p}`, `bench-${p}`, `Handmade piece no. ${p}`, at, at);
      q.variant.run(`var${p}`, `prod${p}`, `BENCH-${p}`, prices[p], at, at);
    }
    for (let i = 0; i < POSTS; i++) q.post.run(`post${i}`, PLATFORMS[i % PLATFORMS.length], `Studio day ${i}: new glazes, tap to shop.`, at, at, at);
    for (let i = 0; i < LIVES; i++) q.live.run(`live${i}`, `Friday live ${i}`, `live-${i}`, `Host ${i % 6}`, PLATFORMS[i % 3], at, at);
    for (let i = 0; i < LINKS; i++) {
      const kind = i % 4;
      const link = {
        id: `link${i}`,
        productId: kind === 0 || kind === 3 ? `prod${(i * 7) % PRODUCTS}` : null,
        postId: kind === 1 || kind === 0 ? `post${(i * 3) % POSTS}` : null,
        liveId: kind === 3 ? `live${i % LIVES}` : null,
        channel: CHANNELS[i % CHANNELS.length]!,
        utmSource: PLATFORMS[i % PLATFORMS.length]!,
        host: kind === 3 ? `Host ${i % 6}` : "",
      };
      links.push(link);
      q.link.run(link.id, `bench-link-${i}`, kind === 2 ? "page" : kind === 1 ? "post" : "product", link.productId, link.postId, link.liveId, link.channel, link.host, link.utmSource, at);
    }
    for (let c = 0; c < 10; c++) q.coupon.run(`coupon${c}`, `BENCH${c}`, c % 2, at, at);
  })();

  // Events: `tenKDay` puts exactly 10,000 on one day and spreads the rest over the other 364.
  const perDay = new Map<number, number>();
  const rest = tenKDay ? events - 10_000 : events;
  for (let d = 0; d < DAYS; d++) {
    const day = TODAY - DAYS + 1 + d;
    if (tenKDay && day === TEN_K_DAY) continue;
    perDay.set(day, Math.floor(rest / (tenKDay ? DAYS - 1 : DAYS)));
  }
  if (tenKDay) perDay.set(TEN_K_DAY, 10_000);
  const written = [...perDay.values()].reduce((a, b) => a + b, 0);
  perDay.set(TODAY - 1, perDay.get(TODAY - 1)! + (events - written));

  // The platform and host the event writer would have set (src/analytics/events.ts, placeRows).
  const postPlatform = (id: string | null) => (id ? PLATFORMS[Number(id.slice(4)) % PLATFORMS.length]! : null);
  const livePlatform = (id: string | null) => (id ? PLATFORMS[Number(id.slice(4)) % 3]! : null);
  const liveHost = (id: string | null) => (id ? `Host ${Number(id.slice(4)) % 6}` : null);
  let n = 0;
  let orders = 0;
  let eventsSoFar = 0;
  const pick = () => {
    const r = random();
    let acc = 0;
    for (const [type, share] of TYPES) if ((acc += share) >= r) return type;
    return "product_view";
  };
  const insertDay = db.transaction((day: number, count: number) => {
    const dayStart = day * DAY_MS;
    // Today's events stop at "now", as they would.
    const span = day === TODAY ? Math.max(1, NOW.getTime() - dayStart - 1000) : DAY_MS - 1;
    for (let i = 0; i < count; i++) {
      const t = dayStart + Math.floor((span * i) / count);
      const type = pick();
      const attributed = random() < 0.45 ? links[Math.floor(random() * links.length)]! : null;
      const product = type === "product_view" || type === "add_to_cart" || type === "live_claim" ? `prod${Math.floor(random() * PRODUCTS)}` : attributed?.productId ?? null;
      const post = type === "post_view" ? `post${Math.floor(random() * POSTS)}` : attributed?.postId ?? null;
      const live = attributed?.liveId ?? (type === "live_join" ? `live${Math.floor(random() * LIVES)}` : null);
      const followed = type === "follow" ? PLATFORMS[Math.floor(random() * PLATFORMS.length)]! : null;
      const platform = followed ?? platformOf({ postPlatform: postPlatform(post), livePlatform: livePlatform(live), channel: attributed?.channel, utmSource: attributed?.utmSource, linkId: attributed?.id });
      q.event.run(
        `ev${n++}`,
        type,
        stamp(t),
        random() < 0.95 ? `v${day}-${Math.floor(random() * Math.max(10, count / 3))}` : null,
        type === "link_click" || type === "product_view" || type === "add_to_cart" || type === "live_claim" ? product : null,
        post,
        attributed?.id ?? null,
        live,
        type === "coupon_applied" ? `coupon${Math.floor(random() * 10)}` : null,
        attributed?.channel ?? null,
        type === "refund" ? 1000 : null,
        followed ? `{"platform":"${followed}","verification":"email"}` : "{}",
        type === "gallery_view" || type === "link_click" ? (random() < 0.6 ? PLATFORMS[Math.floor(random() * 3)] : null) : null,
        platform,
        attributed?.host || liveHost(live) || null,
      );
    }
    // Orders: 1.5 paid and 0.5 abandoned checkouts per 100 events (counted over the whole shop, so a quiet day may have none).
    const paidCount = Math.floor((eventsSoFar + count) * 0.015) - Math.floor(eventsSoFar * 0.015);
    const abandoned = Math.floor((eventsSoFar + count) * 0.005) - Math.floor(eventsSoFar * 0.005);
    eventsSoFar += count;
    for (let k = 0; k < paidCount + abandoned; k++) {
      const id = `ord${orders}`;
      const t = dayStart + Math.floor((span * k) / (paidCount + abandoned));
      const attributed = random() < 0.5 ? links[Math.floor(random() * links.length)]! : null;
      const lines = 1 + Math.floor(random() * 2);
      let subtotal = 0;
      const chosen: [number, number][] = [];
      for (let l = 0; l < lines; l++) {
        const p = Math.floor(random() * PRODUCTS);
        const qty = 1 + Math.floor(random() * 2);
        chosen.push([p, qty]);
        subtotal += prices[p]! * qty;
      }
      const coupon = random() < 0.1 ? `coupon${Math.floor(random() * 10)}` : null;
      const discount = coupon ? Math.floor(subtotal / 10) : 0;
      const paid = k < paidCount;
      q.order.run(id, 1001 + orders, paid ? "paid" : "cancelled", subtotal, discount, subtotal - discount + 500, stamp(t), paid ? stamp(t + 60_000 < dayStart + span ? t + 60_000 : t) : null, stamp(t), attributed?.id ?? null, attributed?.postId ?? null, attributed?.liveId ?? null, attributed?.channel ?? null, coupon);
      for (const [l, [p, qty]] of chosen.entries()) q.line.run(`${id}-${l}`, id, `var${p}`, `prod${p}`, `Handmade piece no. ${p}`, `BENCH-${p}`, prices[p], qty, prices[p]! * qty);
      if (coupon && paid) q.redemption.run(`${id}-r`, coupon, id, discount, stamp(t), stamp(t));
      orders++;
    }
  });
  for (const [day, count] of [...perDay.entries()].sort((a, b) => a[0] - b[0])) insertDay(day, count);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return { events: n, orders };
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A storefront over one seeded file, a signed-in admin cookie, and a baseline route per range. */
async function start(file: string, uploadsDir: string) {
  const prisma = await openDatabase(`file:${file}`);
  const shop: Storefront = createStorefront({ prisma, shopName: "Bench Studio", logger: pino({ level: "silent" }), uploadsDir, secret: "bench-secret-that-is-at-least-32-characters" });
  const deps = shop.bazaarche.deps;
  const captured = new Map<string, Record<string, unknown>>();
  const host = express();
  host.use("/shop", (req, res, next) => {
    const render = res.render.bind(res) as (view: string, options?: object, cb?: unknown) => void;
    (res as Response & { render: unknown }).render = (view: string, options?: object, cb?: unknown) => {
      const key = String(req.query.range ?? "");
      if (view === "admin/dashboard" && !captured.has(key)) captured.set(key, copy({ ...res.locals, ...(options ?? {}) }));
      return render(view, options, cb);
    };
    next();
  });
  host.use("/shop", shop);
  host.get("/baseline/:range", (req, res) => {
    shop.render("admin/dashboard", { ...captured.get(req.params.range)! }, (err: Error | null, html?: string) => {
      if (err) res.status(500).send(err.message);
      else res.type("html").send(html);
    });
  });
  const server = host.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // An admin session written directly (the sign-in form's argon2 is not what is measured).
  const admin = await prisma.adminUser.upsert({ where: { email: "bench@example.com" }, create: { email: "bench@example.com", passwordHash: await hashPassword("bench password that is long") }, update: {} });
  const { token } = await createAdminSession(deps, { adminUserId: admin.id, userAgent: "bench" });
  const cookie = `bz_admin=${token}`;
  // A shop with a year of sales has put its onboarding checklist away.
  await prisma.setting.upsert({ where: { key: "onboarding.dismissed" }, create: { key: "onboarding.dismissed", value: "1" }, update: { value: "1" } });
  return { origin, cookie, deps, prisma, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function copy(data: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === "function" ? v : structuredClone(v)]));
}

async function timeGet(url: string, cookie?: string): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await fetch(url, { headers: cookie ? { cookie } : {} });
  const body = await res.text();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`);
  return ms;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-dashboard-"));
  try {
    const files = { big: path.join(dir, "big.db"), small: path.join(dir, "small.db") };
    let t0 = Date.now();
    const big = seed(files.big, BIG, true);
    console.log(`Seeded ${big.events.toLocaleString("en")} events and ${big.orders.toLocaleString("en")} orders over ${DAYS} days (${PRODUCTS} products, ${POSTS} posts, ${LINKS} links, ${LIVES} live sessions) in ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
    const small = seed(files.small, SMALL, false);
    console.log(`Seeded ${small.events.toLocaleString("en")} events and ${small.orders.toLocaleString("en")} orders over ${DAYS} days in the small shop.`);

    const shops = { big: await start(files.big, path.join(dir, "up-big")), small: await start(files.small, path.join(dir, "up-small")) };
    const ctx = { signal: new AbortController().signal, progress: async () => {} };
    for (const [name, s] of Object.entries(shops)) {
      t0 = Date.now();
      let rolled = 0;
      for (;;) {
        const r = await runRollup(s.deps, ctx, { maxDays: 400 });
        rolled += r.rolled.length;
        if (r.remaining === 0) break;
      }
      console.log(`Rolled up ${rolled} days of the ${name} shop in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
    }
    const rollupRuns: number[] = [];
    const rollupCpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      const r = await rollupDay(shops.big.deps, TEN_K_DAY);
      rollupRuns.push(Number(process.hrtime.bigint() - start) / 1e6);
      const used = process.cpuUsage(cpu);
      rollupCpu.push((used.user + used.system) / 1000);
      if (r.events !== 10_000) throw new Error(`expected 10,000 events on the roll-up day, read ${r.events}`);
    }

    // Warm-up and capture: the first request of each range keeps its render data for the baseline.
    for (const s of Object.values(shops)) for (const range of ["30d", "365d"]) {
      await timeGet(`${s.origin}/shop/admin?${range === "365d" ? "range=custom&from=" + new Date((TODAY - 364) * DAY_MS).toISOString().slice(0, 10) : "range=30d"}`, s.cookie);
    }
    const url = (s: (typeof shops)["big"], range: string) => (range === "30d" ? `${s.origin}/shop/admin?range=30d` : `${s.origin}/shop/admin?range=custom&from=${new Date((TODAY - 364) * DAY_MS).toISOString().slice(0, 10)}`);
    const baselineUrl = (s: (typeof shops)["big"], range: string) => `${s.origin}/baseline/${range === "30d" ? "30d" : "custom"}`;
    for (const s of Object.values(shops)) for (const range of ["30d", "365d"]) for (let i = 0; i < 3; i++) {
      await timeGet(url(s, range), s.cookie);
      await timeGet(baselineUrl(s, range));
    }
    const samples: Record<string, number[]> = {};
    const add = (k: string, v: number) => (samples[k] ??= []).push(v);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, s] of Object.entries(shops)) {
        for (const range of ["30d", "365d"]) {
          const page: number[] = [];
          const cold: number[] = [];
          const base: number[] = [];
          for (let i = 0; i < REQUESTS; i++) {
            base.push(await timeGet(baselineUrl(s, range)));
            page.push(await timeGet(url(s, range), s.cookie));
            clearDashboardCache(s.deps);
            cold.push(await timeGet(url(s, range), s.cookie));
          }
          add(`${name} ${range} page`, median(page));
          add(`${name} ${range} cold`, median(cold));
          add(`${name} ${range} baseline`, median(base));
        }
      }
      const last = (k: string) => samples[k]!.at(-1)!.toFixed(1);
      console.log(`round ${round + 1}: big 30d ${last("big 30d page")}/${last("big 30d cold")} ms (memory ${last("big 30d baseline")}), big 365d ${last("big 365d page")}/${last("big 365d cold")} ms (memory ${last("big 365d baseline")}), small 30d ${last("small 30d page")}/${last("small 30d cold")} ms, small 365d ${last("small 365d page")}/${last("small 365d cold")} ms (warm/cold)`);
    }
    const m = (k: string) => median(samples[k]!);
    const verdict = (ok: boolean) => (ok ? "met" : "missed");
    console.log(`\nMedians of ${ROUNDS} rounds × ${REQUESTS} sequential requests (ms per page, measured at the client, same process).\n`);
    console.log("| shop | range | template from memory ms | dashboard warm ms | warm / memory | dashboard cold ms | cold / memory | aim ≤ 2 (warm, cold) |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const name of ["big", "small"]) for (const range of ["30d", "365d"]) {
      const base = m(`${name} ${range} baseline`);
      const warm = m(`${name} ${range} page`) / base;
      const cold = m(`${name} ${range} cold`) / base;
      console.log(`| ${name === "big" ? BIG.toLocaleString("en") : SMALL.toLocaleString("en")} events | ${range === "30d" ? "30 days" : "365 days"} | ${base.toFixed(1)} | ${m(`${name} ${range} page`).toFixed(1)} | ${warm.toFixed(2)} | ${m(`${name} ${range} cold`).toFixed(1)} | ${cold.toFixed(2)} | ${name === "big" ? `${verdict(warm <= 2)}, ${verdict(cold <= 2)}` : "(reference)"} |`);
    }
    console.log(`\n| range | ${BIG.toLocaleString("en")} events warm ms | ${SMALL.toLocaleString("en")} events warm ms | warm ratio | ${BIG.toLocaleString("en")} cold ms | ${SMALL.toLocaleString("en")} cold ms | cold ratio | aim ≤ 1.5 (warm, cold) |`);
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const range of ["30d", "365d"]) {
      const warm = m(`big ${range} page`) / m(`small ${range} page`);
      const cold = m(`big ${range} cold`) / m(`small ${range} cold`);
      console.log(`| ${range === "30d" ? "30 days" : "365 days"} | ${m(`big ${range} page`).toFixed(1)} | ${m(`small ${range} page`).toFixed(1)} | ${warm.toFixed(2)} | ${m(`big ${range} cold`).toFixed(1)} | ${m(`small ${range} cold`).toFixed(1)} | ${cold.toFixed(2)} | ${verdict(warm <= 1.5)}, ${verdict(cold <= 1.5)} |`);
    }
    const roll = median(rollupRuns);
    console.log(`\nRoll-up of one day with 10,000 events (median of 5 runs, each rebuilding its 10 blocks): ${roll.toFixed(0)} ms wall, ${median(rollupCpu).toFixed(0)} ms CPU — aim < 1,000 ms: ${verdict(roll < 1000)}.`);
    console.log(`Load average during the run: ${os.loadavg().map((l) => l.toFixed(1)).join(", ")} on ${os.cpus().length} CPUs.`);
    for (const s of Object.values(shops)) {
      await s.close();
      await s.prisma.$disconnect();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
