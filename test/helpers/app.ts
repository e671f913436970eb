import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import express from "express";
import { pino } from "pino";
import { inject } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { createStorefront, type StorefrontOptions } from "../../src/storefront.js";

export const MOUNT = "/shop";

/** A fresh, migrated SQLite file (a copy of the template made in global setup). */
export async function freshDatabase() {
  const dir = path.join(inject("testTmpDir"), randomUUID());
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "test.db");
  copyFileSync(inject("templateDb"), file);
  const db = await openDatabase(`file:${file}`);
  return { db, file, dir };
}

/**
 * The storefront mounted at /shop inside a host Express app, as a shop owner
 * would mount it, over a fresh database. Tests drive `app` with supertest.
 */
export async function buildTestApp(overrides: Partial<StorefrontOptions> = {}) {
  const { db, file, dir } = await freshDatabase();
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
  const deps = shop.bazaarche.deps;
  return { app, shop, db, deps, file, dir, close: () => db.$disconnect() };
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>;
