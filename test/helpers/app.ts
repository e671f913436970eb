import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import express from "express";
import { pino } from "pino";
import { inject } from "vitest";
import { openDatabase, type Db } from "../../src/db/client.js";
import { createStorefront, type StorefrontOptions } from "../../src/storefront.js";
import { createDatabaseFrom, dropDatabase, newDatabaseName, onPostgres, TEST_DATABASE_URL, TEST_TRANSACTIONS, urlForDatabase } from "./engine.js";

export const MOUNT = "/shop";

/** Connections per test database on PostgreSQL: more than one, so concurrency tests race for real. */
export const TEST_POOL_SIZE = 5;

/**
 * A fresh, migrated database: on SQLite a copy of the template file made in
 * global setup, on PostgreSQL a database created from the template database.
 * `url` is its DATABASE_URL (for child processes); `drop()` disconnects and,
 * on PostgreSQL, removes it.
 */
export async function freshDatabase() {
  const dir = path.join(inject("testTmpDir"), randomUUID());
  mkdirSync(dir, { recursive: true });
  if (onPostgres) {
    const name = newDatabaseName(inject("pgPrefix"));
    await createDatabaseFrom(TEST_DATABASE_URL, name, inject("templateDb"));
    const url = urlForDatabase(TEST_DATABASE_URL, name);
    const db = await openDatabase(url, { poolSize: TEST_POOL_SIZE, transactions: TEST_TRANSACTIONS });
    const drop = async () => {
      await db.$disconnect();
      await dropDatabase(TEST_DATABASE_URL, name);
    };
    return { db, url, file: null, dir, drop };
  }
  const file = path.join(dir, "test.db");
  copyFileSync(inject("templateDb"), file);
  const url = `file:${file}`;
  const db = await openDatabase(url);
  return { db, url, file, dir, drop: () => db.$disconnect() };
}

/**
 * The storefront mounted at /shop inside a host Express app, as a shop owner
 * would mount it, over a fresh database. Tests drive `app` with supertest.
 */
export async function buildTestApp(overrides: Partial<StorefrontOptions> = {}) {
  const { db, url, file, dir, drop } = await freshDatabase();
  const { app, shop, deps } = mountTestStorefront(db, dir, overrides);
  // With a `prisma` override the storefront runs on that client; the fresh database is still dropped at close.
  return { app, shop, db, deps, url, file, dir, close: drop };
}

/** The test storefront (as buildTestApp mounts it) over a database opened elsewhere. */
export function mountTestStorefront(db: Db, dir: string, overrides: Partial<StorefrontOptions> = {}) {
  const shop = createStorefront({
    prisma: db,
    shopName: "Test Shop",
    currency: "USD",
    uploadsDir: path.join(dir, "uploads"),
    logger: pino({ level: "silent" }),
    secret: "test-secret-that-is-at-least-32-characters-long",
    // Every test request comes from 127.0.0.1; the limiter has its own test.
    loginRateLimit: { windowMs: 60_000, limit: 10_000 },
    couponAttemptsPer15Min: 10_000,
    followSubmitsPer15Min: 10_000,
    ...overrides,
  });
  const app = express();
  app.get("/", (_req, res) => {
    res.send("host home");
  });
  app.use(MOUNT, shop);
  return { app, shop, deps: shop.bazaarche.deps };
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>;
