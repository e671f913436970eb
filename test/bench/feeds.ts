/**
 * npm run bench:feeds — feed streaming time and memory for 50,000 variants.
 *
 * Seeds a temporary SQLite database (10,000 products × 5 variants, one shared
 * photo, some active and expired holds), then measures in one run:
 *  - baseline: better-sqlite3 `.iterate()` over the same variant⋈product rows,
 *    each row handed to a null sink, in a child process that times itself
 *    (so its memory is not counted as the server's);
 *  - each feed served by the production server, `dist/server.js` started in
 *    its own process with the node flags of `npm start` (read from
 *    package.json), and read to the end by curl (a separate process, like a
 *    platform's fetcher);
 * and prints the median of several rounds, the ratio to the baseline, and
 * the server's peak RSS while each feed streamed (the kernel's high-water
 * mark, reset before each run). Nothing forces a garbage collection between
 * runs: the server keeps whatever V8 and the allocator keep, as in
 * production. Targets: ≤ 2× baseline, < 150 MB.
 * The npm script builds dist/ if stale and compiles this file
 * (tsconfig.bench.json → .tmp/bench/) so the baseline's child runs under plain
 * node with the same flags.
 */
import { execFile, execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { migrateDatabase } from "../../src/db/migrate.js";
import { productionNodeFlags } from "../helpers/start-flags.js";

const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 10_000);
const VARIANTS_PER_PRODUCT = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FEEDS = ["google.xml", "meta.csv", "pinterest.csv", "tiktok.csv"] as const;

const mode = process.argv[2];
const dir = mode === "--seed" || mode === "--baseline" ? "" : mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-"));
const file = mode === "--baseline" ? process.argv[3]! : path.join(dir, "bench.db");

function stamp(d: Date) {
  return d.toISOString().replace("Z", "+00:00");
}

function seed(file: string) {
  migrateDatabase(file);
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const now = new Date();
  const at = stamp(now);
  const description =
    "Hand-thrown stoneware, glazed twice and fired at 1240 °C. Every piece is a little different: small marks from the wheel are part of it. " +
    "Dishwasher safe; not for the microwave. Made in our studio, packed in recycled paper.";
  const insertMedia = db.prepare(`INSERT INTO Media (id, storageKey, mime, width, height, bytes, alt, createdAt) VALUES (?, ?, 'image/webp', 1600, 1600, 123456, 'Mug', ?)`);
  const insertProduct = db.prepare(
    `INSERT INTO Product (id, slug, title, description, brand, condition, googleCategory, identifierExists, status, optionNames, createdAt, updatedAt)
     VALUES (?, ?, ?, ?, 'Bench Studio', 'new', 'Home & Garden > Kitchen & Dining > Tableware', 0, 'active', '["Size"]', ?, ?)`,
  );
  const insertVariant = db.prepare(
    `INSERT INTO Variant (id, productId, sku, option1, priceMinor, compareAtMinor, currency, stock, position, createdAt, updatedAt)
     VALUES (?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?)`,
  );
  const insertImage = db.prepare(`INSERT INTO ProductImage (id, productId, mediaId, alt, position) VALUES (?, ?, 'media0', '', ?)`);
  const insertHold = db.prepare(`INSERT INTO StockHold (id, variantId, quantity, status, createdAt, expiresAt) VALUES (?, ?, ?, 'active', ?, ?)`);
  const sizes = ["XS", "S", "M", "L", "XL"];
  db.transaction(() => {
    insertMedia.run("media0", "0123456789abcdef0123456789abcdef", at);
    for (let p = 0; p < PRODUCTS; p++) {
      const productId = `prod${String(p).padStart(8, "0")}`;
      insertProduct.run(productId, `stoneware-mug-${p}`, `Stoneware Mug No. ${p}`, description, at, at);
      insertImage.run(`img${p}a`, productId, 0);
      insertImage.run(`img${p}b`, productId, 1);
      for (let v = 0; v < VARIANTS_PER_PRODUCT; v++) {
        const variantId = `var${String(p).padStart(8, "0")}${v}`;
        const price = 1500 + ((p * 7 + v * 300) % 5000);
        insertVariant.run(variantId, productId, `SKU-${p}-${v}`, sizes[v], price, p % 10 === 0 ? price + 500 : null, (p + v) % 13 === 0 ? 0 : 1 + ((p + v) % 20), v, at, at);
        if ((p * VARIANTS_PER_PRODUCT + v) % 25 === 0) {
          const minutes = (p + v) % 2 === 0 ? 15 : -15;
          insertHold.run(`hold${p}-${v}`, variantId, 1, at, stamp(new Date(now.getTime() + minutes * 60_000)));
        }
      }
    }
  })();
  const counts = db.prepare(`SELECT (SELECT count(*) FROM Variant) AS variants, (SELECT count(*) FROM StockHold) AS holds`).get() as { variants: number; holds: number };
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return counts;
}


/** The same rows the feeds read, with the same columns, streamed to nowhere. */
function baselineRead(): number {
  const db = new Database(file, { readonly: true });
  let sink = 0;
  const rows = db
    .prepare(
      `SELECT v.rowid AS rid, v.id, v.productId, v.sku, v.option1, v.option2, v.option3, v.priceMinor, v.compareAtMinor,
              v.currency, v.stock, v.gtin, v.mpn, v.position,
              p.slug, p.title, p.description, p.brand, p.condition, p.googleCategory, p.identifierExists, p.optionNames
         FROM Variant v CROSS JOIN Product p ON p.id = v.productId
        WHERE p.status = 'active' AND v.archivedAt IS NULL
        ORDER BY v.productId, v.position, v.rowid`,
    )
    .iterate() as IterableIterator<{ id: string; description: string }>;
  for (const row of rows) {
    sink += row.id.length + row.description.length;
  }
  db.close();
  return sink;
}

/** One run, timed inside whichever process ran it. */
interface Run {
  seconds: number;
  cpu: number;
  /** Peak RSS of the process that ran it, in MB. */
  peak: number;
  bytes: number;
}

/**
 * The baseline runs in a child process of its own (same node flags), which
 * times itself: its SQLite sort buffers and row garbage would otherwise stay
 * in this process's heap and allocator and be charged to the server's peak
 * RSS, and the server's memory is what the aim is about.
 */
function startBaselineProcess(flags: string[]): { run(): Promise<Run>; stop(): void } {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--baseline", file], { execArgv: flags });
  return {
    run: () =>
      new Promise<Run>((resolve, reject) => {
        child.once("error", reject);
        child.once("message", (m) => {
          child.off("error", reject);
          resolve(m as Run);
        });
        child.send("run");
      }),
    stop: () => child.kill(),
  };
}

function serveBaseline() {
  process.on("message", async () => {
    writeFileSync("/proc/self/clear_refs", "5");
    const run = await time(baselineRead);
    process.send!({ seconds: run.seconds, cpu: run.cpu, peak: statusMB(process.pid, "VmHWM"), bytes: 0 } satisfies Run);
  });
}

/** Reads a feed to the end with curl, in a process of its own, as a platform's fetcher would. */
function fetchAll(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["--silent", "--show-error", "--fail", "--output", "/dev/null", "--write-out", "%{size_download}", url], (err, stdout) => {
      if (err) reject(new Error(`${url}: ${err.message}`));
      else resolve(Number(stdout));
    });
  });
}

/** Wall time, and this process's CPU time (user + system), of one run. */
async function time<T>(fn: () => Promise<T> | T): Promise<{ seconds: number; cpu: number; result: T }> {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const result = await fn();
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cpu: (cpu.user + cpu.system) / 1e6, result };
}

/** The repository: the nearest folder up from this script with a package.json (the script runs compiled, from .tmp/bench/). */
const root = (() => {
  let at = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(at, "package.json"))) {
    if (path.dirname(at) === at) throw new Error("no package.json above the bench script");
    at = path.dirname(at);
  }
  return at;
})();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** CPU seconds (user + system, every thread) a process has used: /proc/<pid>/stat fields 14 and 15. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function statusMB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : 0;
}

/** dist/server.js on the bench database, in its own process; resolves once it answers. */
async function startServer(flags: string[]) {
  const port = await freePort();
  const child = spawn(process.execPath, [...flags, path.join(root, "dist/server.js")], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      DATABASE_URL: `file:${file}`,
      PORT: String(port),
      PUBLIC_URL: "https://bench.example/shop",
      UPLOADS_DIR: path.join(dir, "uploads"),
      SEED_DEMO: "false",
      LOG_LEVEL: process.env.BENCH_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  child.stdout!.resume();
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited) throw new Error("dist/server.js exited before it answered (run `npm run build`?)");
    const ok = await fetch(`${origin}/feeds/google.xml`, { method: "HEAD" }).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 600) throw new Error("dist/server.js did not answer within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    origin,
    rssMB: () => statusMB(pid, "VmRSS"),
    /**
     * One request's wall time, the server's CPU time and its peak RSS. The
     * peak is the kernel's high-water mark, reset before the run (writing 5
     * to clear_refs), so no sampling interval can miss it.
     */
    async measure(fn: () => Promise<number>): Promise<Run> {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
      const cpuStart = cpuSecondsOf(pid);
      const run = await time(fn);
      return { seconds: run.seconds, cpu: cpuSecondsOf(pid) - cpuStart, peak: statusMB(pid, "VmHWM"), bytes: run.result };
    },
    async stop() {
      child.kill("SIGTERM");
      await exit;
    },
  };
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main() {
  // Seeding runs in a child process so its garbage does not count in this
  // process's RSS; the same script, the same loader flags.
  const seedStart = process.hrtime.bigint();
  const seeded = JSON.parse(
    execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--seed", file], { encoding: "utf8" }).trim().split("\n").pop()!,
  ) as { variants: number; holds: number };
  const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;
  console.log(`Seeded ${seeded.variants} variants (${PRODUCTS} products, ${seeded.holds} holds) in ${seedSeconds.toFixed(2)} s`);

  // The server exactly as production runs it: `npm start`'s node flags,
  // dist/server.js, its own process. The first start migrates and creates
  // the owner (an argon2 hash); the measured one is a restart, as after a deploy.
  const flags = productionNodeFlags(root);
  const firstStart = await startServer(flags);
  const firstReady = firstStart.rssMB();
  await firstStart.stop();
  const server = await startServer(flags);
  const origin = server.origin;
  console.log(`Server (node ${[...flags, "dist/server.js"].join(" ")}): ${firstReady.toFixed(0)} MB when ready on its first start, ${server.rssMB().toFixed(0)} MB when ready on the restart measured here.`);
  const baselineProcess = startBaselineProcess(flags);
  // Warm-up: page cache, JIT, prepared statements.
  await baselineProcess.run();
  for (const feed of FEEDS) await fetchAll(`${origin}/feeds/${feed}`);
  const idleRss = server.rssMB();
  console.log(`After warm-up (one fetch of each feed): ${idleRss.toFixed(0)} MB`);

  // Rounds interleave baseline and feeds, so a busy machine slows all alike.
  const names = ["baseline (iterate)", ...FEEDS] as const;
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpus = new Map<string, number[]>(names.map((n) => [n, []]));
  const peaks = new Map<string, number>(names.map((n) => [n, 0]));
  const sizes = new Map<string, string>([["baseline (iterate)", `${seeded.variants} rows`]]);
  const loadAtStart = os.loadavg()[0]!;
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) {
      const run = name === "baseline (iterate)" ? await baselineProcess.run() : await server.measure(() => fetchAll(`${origin}/feeds/${name}`));
      if (name !== "baseline (iterate)") sizes.set(name, `${(run.bytes / 1e6).toFixed(1)} MB`);
      times.get(name)!.push(run.seconds);
      cpus.get(name)!.push(run.cpu);
      peaks.set(name, Math.max(peaks.get(name)!, run.peak));
    }
  }

  const head = await fetch(`${origin}/feeds/google.xml`, { method: "HEAD" });
  const etag = head.headers.get("etag")!;
  const notModified: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const run = await time(async () => {
      const res = await fetch(`${origin}/feeds/google.xml`, { headers: { "If-None-Match": etag } });
      if (res.status !== 304) throw new Error(`expected 304, got ${res.status}`);
    });
    notModified.push(run.seconds);
  }

  const baseline = median(times.get("baseline (iterate)")!);
  const baselineCpu = median(cpus.get("baseline (iterate)")!);
  console.log(`\nMedian of ${ROUNDS} interleaved rounds. "CPU s" is the CPU time of the process that did the work (the server`);
  console.log(`for a feed, from /proc; for the baseline, a child process with the same node flags), which a busy machine disturbs`);
  console.log(`less than wall time. Peak RSS likewise: the server's high-water mark while that feed streamed (it sat at`);
  console.log(`${idleRss.toFixed(0)} MB after warm-up), the child's while it read. Load average at the start: ${loadAtStart.toFixed(1)} on ${os.cpus().length} CPUs.\n`);
  console.log(`| run | median s | × baseline | CPU s | × baseline CPU | peak RSS MB | size |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | --- |`);
  for (const name of names) {
    const seconds = median(times.get(name)!);
    const cpu = median(cpus.get(name)!);
    console.log(`| ${name} | ${seconds.toFixed(3)} | ${(seconds / baseline).toFixed(2)} | ${cpu.toFixed(3)} | ${(cpu / baselineCpu).toFixed(2)} | ${peaks.get(name)!.toFixed(0)} | ${sizes.get(name)} |`);
  }
  console.log(`| google.xml, 304 revalidation | ${median(notModified).toFixed(3)} | ${(median(notModified) / baseline).toFixed(2)} | | | | If-None-Match |`);
  const slow = FEEDS.filter((f) => median(times.get(f)!) > 2 * baseline);
  const heavy = FEEDS.filter((f) => peaks.get(f)! >= 150);
  // Wall time on a machine busier than its cores also counts the baseline's wait for a CPU; the CPU ratio does not.
  const slowCpu = FEEDS.filter((f) => median(cpus.get(f)!) > 2 * baselineCpu);
  console.log(`\nTargets: each feed ≤ 2× baseline: ${slow.length === 0 ? "met" : `missed by ${slow.join(", ")}`} in wall time, ${slowCpu.length === 0 ? "met" : `missed by ${slowCpu.join(", ")}`} in CPU time; peak RSS < 150 MB: ${heavy.length === 0 ? "met" : `missed by ${heavy.join(", ")}`}.`);

  baselineProcess.stop();
  await server.stop();
  if (process.env.BENCH_KEEP) console.log(`kept ${file}`);
  else rmSync(dir, { recursive: true, force: true });
}

if (mode === "--seed") {
  console.log(JSON.stringify(seed(process.argv[3]!)));
} else if (mode === "--baseline") {
  serveBaseline();
} else {
  main().catch((err) => {
    console.error(err);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
}
