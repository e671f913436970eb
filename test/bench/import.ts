/**
 * npm run bench:import — a 50,000-row product CSV (≈3.5 MB) imported through
 * the HTTP API of a real server process, while shoppers keep asking for a
 * product page and /health.
 *
 * One run: a temporary migrated SQLite database with one product and an API
 * token; the server as `npm start` runs it (test/bench/import-server.ts: the
 * same boot, jobs in the web process) on an ephemeral port; autocannon at a
 * modest fixed rate on a product page and on /health (coordinated-omission
 * corrected latencies). Windows, in order:
 *   idle (before) → dry run (?dryRun=true) → apply (?dryRun=false: check, then
 *   write) → idle (after)
 * Both answer 202 and run as the `catalog.import` job; the bench polls the
 * status URL once a second. It prints the dry run's and the apply's time, the
 * server's peak RSS (VmHWM), and per URL the p50/p99 of each window; the aim
 * is a p99 during the apply under 3× the idle p99 (idle = both idle windows
 * pooled), printed as met or missed. Then it checks the catalog: every row
 * written, every product active, one audit row.
 *
 * BENCH_ROWS (default 50000), BENCH_RATE (requests/s per URL, default 20),
 * BENCH_IDLE_SECONDS (default 20), BENCH_JOBS=worker (the web process with
 * JOBS=off and `npm run worker` beside it, instead of jobs in the web process).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { createApiToken } from "../../src/auth/auth.service.js";
import { openDatabase } from "../../src/db/client.js";
import type { Deps } from "../../src/deps.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { catalogCsv } from "../helpers/csv.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const WORKER = process.env.BENCH_JOBS === "worker";
const AIM = 3;
const ROOT = path.resolve(import.meta.dirname, "../..");

const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-import-"));
const file = path.join(dir, "bench.db");
const env = { ...process.env, DATABASE_URL: `file:${file}`, LOG_LEVEL: "warn", SMTP_URL: "", PUBLIC_URL: "", MAIL_FROM: "", NODE_ENV: "production" };
const children: ChildProcess[] = [];

function start(script: string, extra: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: ROOT, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return child;
}

async function startServer() {
  const child = start("test/bench/import-server.ts", { JOBS: WORKER ? "off" : "on" });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith("{")) return { ...(JSON.parse(line) as { port: number; pid: number }), child };
  }
  throw new Error("the server exited before it listened");
}

/** Resident memory of a process, now and at its peak (Linux /proc; null elsewhere). */
function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb("VmRSS"), peak: kb("VmHWM") };
  } catch {
    return null;
  }
}

interface Window {
  p50: number;
  p99: number;
  requests: number;
  failed: number;
}

/** Fixed-rate load on one URL until stopped. */
function load(url: string) {
  let finish!: (r: autocannon.Result) => void;
  const done = new Promise<autocannon.Result>((resolve) => (finish = resolve));
  const instance = autocannon({ url, connections: 8, overallRate: RATE, duration: 24 * 3600, timeout: 60 }, (err, result) => {
    if (err) throw err;
    finish(result);
  });
  return async (): Promise<Window> => {
    instance.stop();
    const r = await done;
    return { p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, failed: r.non2xx + r.errors + r.timeouts };
  };
}

/** Runs the shopper load on both URLs while `work` runs. */
async function during<T>(origin: string, work: () => Promise<T>) {
  const stops = [load(`${origin}/p/bench-mug`), load(`${origin}/health`)];
  const result = await work();
  const [page, health] = await Promise.all(stops.map((stop) => stop()));
  return { result, page: page!, health: health! };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  migrateDatabase(file);
  const db = await openDatabase(`file:${file}`);
  await db.product.create({
    data: {
      slug: "bench-mug",
      title: "Bench Mug",
      status: "active",
      optionNames: JSON.stringify(["Colour"]),
      variants: { create: ["Blue", "Red"].map((c, position) => ({ sku: `BENCH-${c}`, option1: c, priceMinor: 2400, currency: "USD", stock: 100, position })) },
    },
  });
  const { token } = await createApiToken({ db } as Pick<Deps, "db"> as Deps, { name: "bench" });
  await db.$disconnect();

  const server = await startServer();
  if (WORKER) start("src/worker.ts", {});
  const origin = `http://127.0.0.1:${server.port}`;
  const api = (p: string, init: RequestInit = {}) => fetch(`${origin}/api/v1${p}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });

  let peakSampled = 0;
  const sampler = setInterval(() => {
    const m = memoryOf(server.pid);
    if (m) peakSampled = Math.max(peakSampled, m.rss);
  }, 250);

  /** POSTs the file and waits (polling the status URL each second) until the import has nothing left to do. */
  async function importFile(bytes: Buffer, dryRun: boolean) {
    const started = performance.now();
    const res = await api(`/products/import?dryRun=${dryRun}`, { method: "POST", headers: { "Content-Type": "text/csv" }, body: new Uint8Array(bytes) });
    if (res.status !== 202) throw new Error(`import answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const { data } = (await res.json()) as { data: { id: string } };
    for (;;) {
      await pause(1000);
      const status = (await (await api(`/products/imports/${data.id}`)).json()) as { data: ImportStatus };
      const s = status.data;
      if ((dryRun && s.status === "checked") || ["applied", "rolled_back", "failed", "cancelled"].includes(s.status) || (!dryRun && s.status === "checked")) {
        return { seconds: (performance.now() - started) / 1000, status: s };
      }
    }
  }

  const bytes = catalogCsv(ROWS);
  console.log(`Import benchmark: ${ROWS.toLocaleString("en")} rows, ${(bytes.length / 1e6).toFixed(2)} MB; jobs ${WORKER ? "in a worker process (web: JOBS=off)" : "in the web process (the npm start default)"}; ${RATE} requests/s on each URL.`);
  console.log("warming up…");
  await during(origin, () => pause(3000));
  console.log("idle…");
  const idle1 = await during(origin, () => pause(IDLE_SECONDS * 1000));
  const idleMemory = memoryOf(server.pid);
  console.log("dry run…");
  const dry = await during(origin, () => importFile(bytes, true));
  console.log("apply…");
  const apply = await during(origin, () => importFile(bytes, false));
  console.log("idle…");
  const idle2 = await during(origin, () => pause(IDLE_SECONDS * 1000));
  clearInterval(sampler);
  const memory = memoryOf(server.pid);

  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once("exit", resolve)))));

  // The figures only count if the work was done right.
  const check = await openDatabase(`file:${file}`);
  const expectedProducts = apply.result.status.report?.summary.products.create ?? -1;
  const [products, active, variants, audits] = await Promise.all([
    check.product.count(),
    check.product.count({ where: { status: "active" } }),
    check.variant.count(),
    check.auditLog.count({ where: { action: "catalog.import" } }),
  ]);
  await check.$disconnect();
  const ok = apply.result.status.status === "applied" && products === expectedProducts + 1 && active === products && variants === ROWS + 2 && audits === 1;

  const ms = (n: number) => `${n.toFixed(0)} ms`.padStart(8);
  const rows: [string, Window, Window, Window, Window][] = [
    ["product page /p/bench-mug", idle1.page, dry.page, apply.page, idle2.page],
    ["/health", idle1.health, dry.health, apply.health, idle2.health],
  ];
  console.log("");
  console.log("                            idle before   | dry run       | apply         | idle after    | apply p99 ÷ idle p99");
  console.log("                            p50      p99  | p50      p99  | p50      p99  | p50      p99  |");
  let met = true;
  for (const [name, a, d, w, b] of rows) {
    // The baseline: the two idle windows, before and after, averaged.
    const idle = (a.p99 + b.p99) / 2;
    const ratio = w.p99 / idle;
    if (!(ratio < AIM)) met = false;
    console.log(`${name.padEnd(26)}${ms(a.p50)}${ms(a.p99)} |${ms(d.p50)}${ms(d.p99)} |${ms(w.p50)}${ms(w.p99)} |${ms(b.p50)}${ms(b.p99)} | ${ratio.toFixed(2)}× (dry run ${(d.p99 / idle).toFixed(2)}×)`);
    const failed = a.failed + d.failed + w.failed + b.failed;
    if (failed) console.log(`  ${failed} of ${a.requests + d.requests + w.requests + b.requests} requests failed or timed out`);
  }
  const s = apply.result.status;
  const writing = s.finishedAt && s.checkedAt ? (Date.parse(s.finishedAt) - Date.parse(s.checkedAt)) / 1000 : NaN;
  console.log("");
  console.log(`dry run:  ${dry.result.seconds.toFixed(1)} s (${s.progress.productsTotal.toLocaleString("en")} products checked)`);
  console.log(`apply:    ${apply.result.seconds.toFixed(1)} s from POST to applied (check again, then ${writing.toFixed(1)} s writing ${s.progress.productsWritten.toLocaleString("en")} products)`);
  console.log(`server peak RSS: ${memory ? (memory.peak / 1e6).toFixed(0) : "n/a"} MB (VmHWM; sampled peak ${(peakSampled / 1e6).toFixed(0)} MB; ${idleMemory ? (idleMemory.rss / 1e6).toFixed(0) : "n/a"} MB when idle before the import)`);
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} at the end`);
  console.log(`before this change (issue 15): apply > 8 min at 1.8 cores and 880 MB, /health and the shop unanswered throughout, nothing committed`);
  console.log(`catalog after the apply: ${products} products (${active} active), ${variants} variants, ${audits} import audit row: ${ok ? "as expected" : "WRONG"}`);
  console.log(`aim: p99 during the apply under ${AIM}× the idle p99 (idle = mean of the two idle windows' p99): ${met ? "met" : "missed"}`);
  rmSync(dir, { recursive: true, force: true });
  if (!ok) process.exit(1);
}

interface ImportStatus {
  status: string;
  checkedAt: string | null;
  finishedAt: string | null;
  progress: { productsTotal: number; productsWritten: number };
  report: { summary: { products: { create: number } } } | null;
}

main().catch((err) => {
  console.error(err);
  for (const child of children) child.kill("SIGTERM");
  process.exit(1);
});
