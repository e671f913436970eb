import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { openDatabase, type Db } from "../src/db/client.js";
import { allJobs } from "../src/jobs/registry.js";

const ROOT = path.resolve(import.meta.dirname, "..");
let db: Db | undefined;
afterAll(() => db?.$disconnect());

describe("npm run worker", () => {
  it("runs only the background jobs in its own process (migrating a new database), each under its lease, and stops on SIGTERM after the runs in flight", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-worker-"));
    const file = path.join(dir, "shop.db");
    const child = spawn(process.execPath, ["--import", "tsx", "src/worker.ts"], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: "warn", DATABASE_URL: `file:${file}`, SMTP_URL: "", PUBLIC_URL: "", MAIL_FROM: "" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await vi.waitFor(() => expect(out).toContain("worker is running"), { timeout: 60_000, interval: 100 });
      expect(out).toContain("Email: NOT sent (no SMTP_URL): emails stay in the outbox");
      db = await openDatabase(`file:${file}`);
      await vi.waitFor(
        async () => {
          const rows = await db!.jobLease.findMany({ orderBy: { name: "asc" } });
          // Every registered job ran once, successfully, in this process.
          expect(rows.map((r) => [r.name, r.lastStatus])).toEqual(
            allJobs()
              .map((j) => j.name)
              .sort()
              .map((name) => [name, "ok"]),
          );
        },
        { timeout: 60_000, interval: 200 },
      );
      const outbox = await db.jobLease.findUniqueOrThrow({ where: { name: "mail.outbox" } });
      expect(JSON.parse(outbox.lastResult!)).toMatchObject({ sender: "none", sent: 0 });
      expect(outbox.owner).toMatch(/:\d+:[0-9a-f]{8}$/);
      // Nothing but the jobs: the worker serves no HTTP and never seeds the demo shop.
      expect(await db.product.count()).toBe(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(err).toBe("");
  }, 180_000);
});
