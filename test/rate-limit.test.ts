import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import express from "express";
import { pino } from "pino";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, rateLimitStoreOf } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { pruneRateLimits } from "../src/http/rate-limit.jobs.js";
import { createStorefront, type StorefrontOptions } from "../src/storefront.js";
import { freshDatabase, MOUNT } from "./helpers/app.js";
import { cookieNamed, csrfFrom } from "./helpers/html.js";

/**
 * Rate limits through their store: counted in this process, in the database
 * (shared by every instance on it) or in Redis. "Instances" here are two
 * storefronts built separately over the same database file or Redis server,
 * as two app processes behind a load balancer would be.
 */
const LIMIT = 3;

async function instance(url: string, dir: string, overrides: Partial<StorefrontOptions>) {
  const db = await openDatabase(url);
  const shop = createStorefront({
    prisma: db,
    uploadsDir: path.join(dir, "uploads"),
    logger: pino({ level: "silent" }),
    secret: "test-secret-that-is-at-least-32-characters-long",
    loginRateLimit: { windowMs: 15 * 60_000, limit: LIMIT },
    ...overrides,
  });
  const app = express().use(MOUNT, shop);
  return { app, db, deps: shop.bazaarche.deps, close: async () => Promise.all([db.$disconnect(), shop.bazaarche.deps.rateLimits.close()]) };
}
type Instance = Awaited<ReturnType<typeof instance>>;

/** A failed sign-in through the real form: 401, or 429 once the limit is reached. */
async function failedLogin(i: Instance) {
  const page = await request(i.app).get(`${MOUNT}/admin/login`).expect(200);
  const res = await request(i.app)
    .post(`${MOUNT}/admin/login`)
    .set("Cookie", cookieNamed(page, "bz_csrf")!.split(";")[0]!)
    .type("form")
    .send({ _csrf: csrfFrom(page.text), email: "nobody@example.com", password: "wrong password" });
  expect([401, 429]).toContain(res.status);
  return res.status;
}

async function twoInstances(store: StorefrontOptions["rateLimitStore"], now?: () => Date) {
  const { db, url, dir } = await freshDatabase();
  await db.$disconnect();
  const a = await instance(url, dir, { rateLimitStore: store, ...(now ? { now } : {}) });
  const b = await instance(url, dir, { rateLimitStore: store, ...(now ? { now } : {}) });
  return { a, b, close: () => Promise.all([a.close(), b.close()]) };
}

describe("memory store (one process)", () => {
  it("counts per process: two instances each allow the full limit", async () => {
    const { a, b, close } = await twoInstances("memory");
    try {
      const statuses = [await failedLogin(a), await failedLogin(a), await failedLogin(b), await failedLogin(b)];
      expect(statuses).toEqual([401, 401, 401, 401]);
      expect(await a.db.rateLimitHit.count()).toBe(0);
    } finally {
      await close();
    }
  });
});

describe("database store", () => {
  it("shares the count between instances on one database", async () => {
    const { a, b, close } = await twoInstances("database");
    try {
      const statuses = [await failedLogin(a), await failedLogin(b), await failedLogin(a), await failedLogin(b), await failedLogin(a)];
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const row = await a.db.rateLimitHit.findFirstOrThrow({ where: { key: { startsWith: "admin-login:" } } });
      expect(row.hits).toBe(5);
    } finally {
      await close();
    }
  });

  it("lets exactly the limit through when requests race, spread over two instances", async () => {
    const { a, b, close } = await twoInstances("database");
    try {
      // The form's token and cookie once per instance, then 24 posts at once.
      const forms = await Promise.all(
        [a, b].map(async (i) => {
          const page = await request(i.app).get(`${MOUNT}/admin/login`).expect(200);
          return { i, cookie: cookieNamed(page, "bz_csrf")!.split(";")[0]!, csrf: csrfFrom(page.text) };
        }),
      );
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, n) => {
          const f = forms[n % 2]!;
          return request(f.i.app).post(`${MOUNT}/admin/login`).set("Cookie", f.cookie).type("form").send({ _csrf: f.csrf, email: "nobody@example.com", password: "x" });
        }),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(LIMIT);
      expect(statuses.filter((s) => s === 429)).toHaveLength(24 - LIMIT);
      expect((await a.db.rateLimitHit.findFirstOrThrow({ where: { key: { startsWith: "admin-login:" } } })).hits).toBe(24);
    } finally {
      await close();
    }
  });

  it("starts a new window when the old one has passed, and prunes long-expired windows", async () => {
    let clock = new Date("2026-12-01T10:00:00Z");
    const { a, b, close } = await twoInstances("database", () => clock);
    try {
      for (let n = 0; n < LIMIT; n++) expect(await failedLogin(a)).toBe(401);
      expect(await failedLogin(b)).toBe(429);
      const refused = await request(b.app).get(`${MOUNT}/admin/login`);
      expect(refused.status).toBe(200);

      clock = new Date(clock.getTime() + 15 * 60_000 + 1000);
      expect(await failedLogin(b)).toBe(401);
      const row = await a.db.rateLimitHit.findFirstOrThrow({ where: { key: { startsWith: "admin-login:" } } });
      expect(row).toMatchObject({ hits: 1, resetAt: new Date(clock.getTime() + 15 * 60_000) });

      expect(await pruneRateLimits(a.deps)).toEqual({ deleted: 0 });
      clock = new Date(clock.getTime() + 2 * 60 * 60_000);
      expect(await pruneRateLimits(a.deps)).toEqual({ deleted: 1 });
      expect(await a.db.rateLimitHit.count()).toBe(0);
    } finally {
      await close();
    }
  });
});

describe("Redis store", () => {
  let redis: ChildProcess;
  let dir: string;
  let socket: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-redis-"));
    socket = path.join(dir, "redis.sock");
    // Debian's redis-server (.ci/run installs it), on a private socket: no port to collide on.
    redis = spawn("redis-server", ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", dir]);
    await new Promise<void>((resolve, reject) => {
      let out = "";
      redis.once("error", (err) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${err.message}`)));
      redis.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        if (/ready to accept connections/i.test(out)) resolve();
      });
      redis.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
  }, 30_000);
  afterAll(() => {
    redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shares the count between instances through Redis", async () => {
    const { a, b, close } = await twoInstances({ redisUrl: `unix://${socket}` });
    try {
      expect(a.deps.rateLimits.kind).toBe("redis");
      const statuses = [await failedLogin(a), await failedLogin(b), await failedLogin(b), await failedLogin(a)];
      expect(statuses).toEqual([401, 401, 401, 429]);
      // Nothing was counted in the database.
      expect(await a.db.rateLimitHit.count()).toBe(0);
    } finally {
      await close();
    }
  });
});

describe("configuration", () => {
  it("picks Redis when REDIS_URL is set, the database when asked (or on PostgreSQL), else memory", () => {
    expect(rateLimitStoreOf(loadConfig({}))).toBe("memory");
    expect(rateLimitStoreOf(loadConfig({ RATE_LIMIT_STORE: "database" }))).toBe("database");
    expect(rateLimitStoreOf(loadConfig({ REDIS_URL: "redis://127.0.0.1:6379/0" }))).toEqual({ redisUrl: "redis://127.0.0.1:6379/0" });
    expect(rateLimitStoreOf({ RATE_LIMIT_STORE: undefined, REDIS_URL: undefined, DATABASE_URL: "postgres://shop@db/shop" })).toBe("database");
    expect(() => loadConfig({ RATE_LIMIT_STORE: "redis" })).toThrow("Invalid REDIS_URL: expected required when RATE_LIMIT_STORE=redis");
    expect(() => loadConfig({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow('Invalid REDIS_URL (got "…"): expected a URL such as redis://');
    expect(() => loadConfig({ RATE_LIMIT_STORE: "disk" })).toThrow('Invalid RATE_LIMIT_STORE (got "disk"): expected memory, database or redis');
  });
});
