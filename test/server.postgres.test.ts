// `npm start` on PostgreSQL: the same program as server.test.ts, with
// DATABASE_URL=postgres://…; several instances at once; a database that is
// not there.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { dropDatabase, newDatabaseName, onServer, TEST_DATABASE_URL, urlForDatabase } from "./helpers/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const created: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const running: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});
afterAll(async () => {
  for (const name of created) await dropDatabase(TEST_DATABASE_URL, name);
});

function spawnServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
  });
  running.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", () => {
      if (out.includes("Admin:")) setTimeout(resolve, 50);
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}:\n${out}\n${err}`)));
  });
  // Tests that expect an exit never await `started`.
  started.catch(() => undefined);
  return { child, started, exited, output: () => out, errors: () => err };
}

describe("npm start with DATABASE_URL=postgres://…", () => {
  it("two instances started together on an empty database: migrated once, seeded once, one set of credentials, both serve it", async () => {
    const name = newDatabaseName(inject("pgPrefix"));
    await onServer(TEST_DATABASE_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
    created.push(name);
    const url = urlForDatabase(TEST_DATABASE_URL, name);
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((port) => spawnServer({ PORT: String(port), DATABASE_URL: url, DATABASE_POOL_SIZE: "4", ADMIN_EMAIL: "owner@example.com", SHOP_NAME: "PG Shop" }));
    // First start re-encodes the demo images; generous for a loaded 2-core machine.
    await Promise.all(servers.map((s) => s.started));
    const outputs = servers.map((s) => s.output());
    expect(outputs.filter((o) => o.includes("Admin password"))).toHaveLength(1);
    expect(outputs.filter((o) => o.includes("Demo catalog created"))).toHaveLength(1);

    for (const port of ports) {
      const base = `http://127.0.0.1:${port}`;
      expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: "ready" });
      const home = await (await fetch(`${base}/`)).text();
      expect(home).toContain("PG Shop");
      expect(home.match(/class="card"/g)?.length).toBe(12);
    }
    const counts = await onServer(url, async (c) => (await c.query(`SELECT (SELECT count(*) FROM "Product") AS products, (SELECT count(*) FROM "AdminUser") AS admins, (SELECT count(*) FROM "_prisma_migrations") AS migrations`)).rows[0]);
    expect(counts).toMatchObject({ products: "12", admins: "1" });

    for (const s of servers) s.child.kill("SIGTERM");
    expect(await Promise.all(servers.map((s) => s.exited))).toEqual([0, 0]);
    for (const s of servers) expect(s.errors()).toBe("");
  }, 360_000);

  it("PostgreSQL unreachable at start: one line naming the server (not the password), exit 1", async () => {
    const s = spawnServer({ PORT: String(await freePort()), DATABASE_URL: "postgres://shop:hunter2@127.0.0.1:1/bazaarche" });
    expect(await s.exited).toBe(1);
    const lines = s.errors().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cannot reach PostgreSQL at postgres:\/\/shop:\*\*\*@127\.0\.0\.1:1\/bazaarche: .*ECONNREFUSED/);
    expect(s.errors()).not.toContain("hunter2");
    expect(s.output()).toBe("");
  }, 120_000);

  it("a database that does not exist: one line that says so, exit 1", async () => {
    const url = urlForDatabase(TEST_DATABASE_URL, "bz_no_such_database");
    const s = spawnServer({ PORT: String(await freePort()), DATABASE_URL: url });
    expect(await s.exited).toBe(1);
    const lines = s.errors().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cannot reach PostgreSQL at .*bz_no_such_database: .*database "bz_no_such_database" does not exist/);
  }, 120_000);
});
