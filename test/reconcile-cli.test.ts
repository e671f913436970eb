import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { payLocally } from "./helpers/orders.js";
import { newShopper } from "./helpers/shopper.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Runs `npm run reconcile` the way npm does (tsx), against the given environment. */
function reconcile(env: Record<string, string>, args: string[] = []) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/checkout/reconcile.cli.ts", ...args], {
      cwd: ROOT,
      // Only what the CLI reads: a Stripe key in the developer's shell must not leak in.
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => reject(new Error(`reconcile did not finish:\n${out}\n${err}`)), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

let t: TestApp;
const orders: Record<"old" | "recent" | "paid", number> = { old: 0, recent: 0, paid: 0 };

beforeAll(async () => {
  t = await buildTestApp();
  const p = await createProduct(t.deps, { variants: [{ stock: 5 }] });
  const v = p.variants[0]!;
  for (let i = 0; i < 2; i++) {
    const shopper = await newShopper(t.app);
    await shopper.add(v.id).expect(303);
    await shopper.checkout().expect(303);
  }
  const pending = await t.db.order.findMany({ where: { status: "pending" }, orderBy: { number: "asc" } });
  orders.old = pending[0]!.number;
  orders.recent = pending[1]!.number;
  // The first checkout was started 20 minutes ago; the CLI's default looks at those older than 5.
  await t.db.order.update({ where: { id: pending[0]!.id }, data: { createdAt: new Date(Date.now() - 20 * 60_000) } });
  orders.paid = (await payLocally(t.app, t.deps, v.id)).order.number;
});
afterAll(() => t.close());

describe("npm run reconcile", () => {
  it("checks the pending orders older than 5 minutes with the configured gateway, prints the report and exits 0", async () => {
    const { code, out, err } = await reconcile({ DATABASE_URL: t.url });
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toBe(
      [
        "Reconciled pending orders older than 5 minutes with the local payment page:",
        "  checked:   1",
        "  paid:      0",
        "  cancelled: 0",
        `  open:      1  (#${orders.old})`,
        "  (The local payment page settles orders itself; open ones are cancelled when their hold expires.)",
        "",
      ].join("\n"),
    );
    // Reconcile never touches an order it has no news about.
    expect(await t.db.order.count({ where: { status: "pending" } })).toBe(2);
  }, 90_000);

  it("takes --older-than and --json", async () => {
    const { code, out } = await reconcile({ DATABASE_URL: t.url }, ["--older-than", "0", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ provider: "local", olderThanMinutes: 0, checked: 2, paid: [], cancelled: [], open: [orders.old, orders.recent] });
  }, 90_000);

  it("refuses bad arguments, a bad environment and a missing database with exit 1 and one line saying what is wrong", async () => {
    const db = { DATABASE_URL: t.url };
    const badArg = await reconcile(db, ["--older-than", "soon"]);
    expect([badArg.code, badArg.err.trim()]).toEqual([1, "--older-than: a whole number of minutes, e.g. 5"]);
    const unknown = await reconcile(db, ["--dry-run"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("Unknown option '--dry-run'");
    const badEnv = await reconcile({ ...db, STRIPE_SECRET_KEY: "sk_test_abc" });
    expect(badEnv.code).toBe(1);
    expect(badEnv.err).toContain("Invalid STRIPE_WEBHOOK_SECRET");
    const missing = path.join(mkdtempSync(path.join(os.tmpdir(), "bazaarche-reconcile-")), "none.db");
    const noDb = await reconcile({ DATABASE_URL: `file:${missing}` });
    expect([noDb.code, noDb.err.trim()]).toEqual([1, `No database at ${missing}. Start the shop once (npm start) or set DATABASE_URL.`]);
    expect(noDb.out).toBe("");
  }, 120_000);
});
