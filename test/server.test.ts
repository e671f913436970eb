import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { productionNodeFlags } from "./helpers/start-flags.js";

const ROOT = path.resolve(import.meta.dirname, "..");

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

/** Flags a Node.js refuses fail the suite here, not a shop's first start. */
const START_FLAGS = productionNodeFlags(ROOT);

/** Starts `src/server.ts` the way `npm start` does (with its node flags) and waits for its banner. */
async function start(env: Record<string, string>, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...START_FLAGS, ...nodeArgs, "--import", "tsx", "src/server.ts"], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: "warn", ...env } });
  running.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    // First start re-encodes the demo images; generous for a loaded 2-core machine.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 150_000);
    child.stdout.on("data", () => {
      // Started: the banner is out and, on a first start, the whole credentials block (to its last line).
      const credentialsPending = out.includes("First start") && !/API token:\s+bz_\S+\r?\n/.test(out);
      if (out.includes("Admin:") && !credentialsPending) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}\n${err}`)));
  });
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    return exited;
  };
  /** Resolves when stdout has shown `text` (an event, not a clock). */
  const waitForOutput = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.includes(text)) return resolve();
      const onData = () => {
        if (out.includes(text)) {
          child.stdout.off("data", onData);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.once("exit", (code) => reject(new Error(`server exited with ${code} before printing ${JSON.stringify(text)}:\n${out}`)));
    });
  return { child, output: () => out, errors: () => err, stop, waitForOutput };
}

describe("npm start", () => {
  it("creates, migrates and seeds the database on first start, prints working credentials once, keeps data on restart, and shuts down on SIGTERM", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-start-"));
    const port = await freePort();
    // A database other than the embedded default is seeded only when asked to.
    const env = { PORT: String(port), DATABASE_URL: `file:${path.join(dir, "shop.db")}`, ADMIN_EMAIL: "owner@example.com", SHOP_NAME: "E2E Shop", SEED_DEMO: "true", LOG_LEVEL: "info", LOG_FORMAT: "pretty" };
    const base = `http://127.0.0.1:${port}`;

    const first = await start(env);
    const out = first.output();
    // No SMTP_URL: the banner says no email leaves the shop and where to read it; the jobs run here.
    expect(out).toContain(`Email:      NOT sent (no SMTP_URL): every email waits in http://localhost:${port}/admin/outbox`);
    expect(out).toContain("Jobs:       running in this process");
    expect(out).toContain(`Storefront: http://localhost:${port}/`);
    expect(out).toContain(`Admin:      http://localhost:${port}/admin`);
    const password = /Admin password: (\S+)/.exec(out)?.[1];
    const token = /API token:\s+(bz_\S+)/.exec(out)?.[1];
    expect(password).toBeTruthy();
    expect(token).toBeTruthy();
    // Readable lines, not JSON, and the credentials are the last thing printed.
    expect(out).not.toMatch(/^\{"level"/m);
    expect(out.trimEnd().split("\n").at(-1)).toMatch(/^\s*╚═+╝$/);
    expect(out.indexOf("Admin password")).toBeGreaterThan(out.indexOf("Admin:      http"));

    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: "ready" });
    const home = await (await fetch(`${base}/`)).text();
    expect(home).toContain("E2E Shop");
    // The first page view's log line would push the password up: it is shown again below it.
    await first.waitForOutput("Shown again");
    const afterView = first.output().slice(out.length);
    expect(afterView).toMatch(/^\d\d:\d\d:\d\d INFO  GET \/ 200 \d+ ms$/m);
    expect(afterView.indexOf("Admin password")).toBeGreaterThan(afterView.search(/GET \/ 200/));
    expect(home.match(/class="card"/g)?.length).toBe(12);

    const me = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const products = (await (await fetch(`${base}/api/v1/products?limit=100`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { data: unknown[] };
    expect(products.data).toHaveLength(12);

    // The printed password signs in through the real form.
    const loginPage = await fetch(`${base}/admin/login`);
    const csrfCookie = loginPage.headers.getSetCookie().find((c) => c.startsWith("bz_csrf="))!.split(";")[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
    const login = await fetch(`${base}/admin/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: csrfCookie },
      body: new URLSearchParams({ _csrf: csrf, email: "owner@example.com", password: password! }),
    });
    expect(login.status).toBe(303);
    expect(login.headers.getSetCookie().some((c) => c.startsWith("bz_admin="))).toBe(true);

    expect(await first.stop("SIGTERM")).toBe(0);

    // JOBS=off: this process only serves requests (`npm run worker` runs the jobs).
    const second = await start({ ...env, JOBS: "off" });
    expect(second.output()).toContain("Jobs:       off in this process (JOBS=off): run `npm run worker`");
    expect(second.output()).not.toContain("Admin password");
    expect(second.output()).not.toContain("Demo catalog created");
    const again = await (await fetch(`${base}/`)).text();
    expect(again.match(/class="card"/g)?.length).toBe(12);
    const stillValid = await fetch(`${base}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(stillValid.status).toBe(200);
    expect(await second.stop("SIGTERM")).toBe(0);
    expect(second.errors()).toBe("");
  }, 360_000);

  it("leaves a database other than the embedded default empty unless SEED_DEMO=true, and says so", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-prod-"));
    const port = await freePort();
    const server = await start({ PORT: String(port), DATABASE_URL: `file:${path.join(dir, "production.db")}`, ADMIN_EMAIL: "owner@example.com", LOG_FORMAT: "json" });
    const out = server.output();
    expect(out).not.toContain("Demo catalog created");
    expect(out).toContain("The shop has no products yet");
    const token = /API token:\s+(bz_\S+)/.exec(out)![1]!;
    const products = (await (await fetch(`http://127.0.0.1:${port}/api/v1/products?limit=100`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { data: unknown[] };
    expect(products.data).toHaveLength(0);
    expect(await server.stop("SIGTERM")).toBe(0);
  }, 120_000);

  it("loads no heavy module a SQLite shop's pages and feeds do not need: a restarted server that served pages and a feed has not loaded pg, sharp, Stripe, nodemailer, CSV, QR, argon2, multer, S3 or Redis", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-lean-"));
    const env = { DATABASE_URL: `file:${path.join(dir, "shop.db")}`, UPLOADS_DIR: path.join(dir, "uploads"), SEED_DEMO: "false" };
    // The first start creates the owner (an argon2 hash); a restart is what runs for days.
    const first = await start({ ...env, PORT: String(await freePort()) });
    expect(await first.stop("SIGTERM")).toBe(0);

    const imports = path.join(dir, "imports.txt");
    const port = await freePort();
    const server = await start({ ...env, PORT: String(port), RECORD_IMPORTS: imports }, ["--import", "./test/helpers/record-imports.mjs"]);
    for (const url of ["/", "/?lang=fa", "/gallery", "/feeds/google.xml", "/feeds/meta.csv", "/admin/login", "/health"]) {
      expect((await fetch(`http://127.0.0.1:${port}${url}`)).status, url).toBe(200);
    }
    expect(await server.stop("SIGTERM")).toBe(0);

    const packages = packagesIn(imports);
    // The recorder sees ordinary packages too, so an empty list cannot pass this test.
    expect(packages).toContain("express");
    expect(packages).toContain("better-sqlite3");
    expect(HEAVY.filter((name) => packages.has(name))).toEqual([]);
  }, 150_000);

  it("the package's entry, as a host app imports it to mount the shop, loads none of them either (it re-exports the PostgreSQL broadcaster, which loads pg on its first connection)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-lean-"));
    const imports = path.join(dir, "imports.txt");
    const child = spawn(process.execPath, ["--import", "tsx", "--import", "./test/helpers/record-imports.mjs", "--input-type=module", "-e", "const m = await import('./src/index.ts'); if (typeof m.PostgresBroadcaster !== 'function') process.exit(3);"], {
      cwd: ROOT,
      env: { ...process.env, RECORD_IMPORTS: imports },
    });
    running.push(child);
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    expect(await new Promise((resolve) => child.once("exit", resolve)), err).toBe(0);
    const packages = packagesIn(imports);
    expect(packages).toContain("express");
    expect(HEAVY.filter((name) => packages.has(name))).toEqual([]);
  }, 60_000);
});

const HEAVY = ["pg", "sharp", "stripe", "nodemailer", "csv-parse", "csv-stringify", "qrcode", "@node-rs/argon2", "multer", "@aws-sdk/client-s3", "redis", "rate-limit-redis"];

/** The packages a process recorded by test/helpers/record-imports.mjs loaded. */
function packagesIn(imports: string): Set<string> {
  expect(existsSync(imports)).toBe(true);
  return new Set([...readFileSync(imports, "utf8").matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]!));
}
