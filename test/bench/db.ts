/**
 * npm run bench:db — the storefront on PostgreSQL beside SQLite, in one run.
 *
 * Three setups, each a real shop served by app processes (test/helpers/app-process.ts,
 * the storefront at /shop, pools of 10 connections) on 127.0.0.1:
 *   - SQLite, 1 process (the embedded default; SQLite admits one writer);
 *   - PostgreSQL, 1 process;
 *   - PostgreSQL, 3 processes over one database (requests round robin, as a
 *     load balancer would send them).
 * For each: product pages (GET /p/:slug), checkout starts (POST /checkout,
 * each from its own two-line cart written beforehand), and signed Stripe
 * checkout.session.completed webhooks (POST /webhooks/stripe, against the fake
 * Stripe from the tests), with BENCH_CLIENTS concurrent clients. Rounds
 * interleave the setups so a busy machine slows all alike; the table shows
 * medians. Aim: PostgreSQL with 3 processes serves at least 1.5× the checkouts
 * of one SQLite process. At the end it checks that every order was paid once
 * and stock, ledger and emails add up in every database.
 *
 * PostgreSQL: BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a server the
 * bench may CREATE DATABASE on; otherwise it starts a private one (Debian's
 * binaries) with fsync on and synchronous_commit off, the durability SQLite
 * has here (WAL, synchronous=NORMAL: no sync per commit).
 * BENCH_PROFILE=1 also records a CPU profile of one PostgreSQL app process
 * and prints where its time went.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { openDatabase, type Db } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";
import { startFakeStripe } from "../helpers/fake-stripe.js";
import { csrfFrom } from "../helpers/html.js";
import { startAppProcesses, type AppProcesses } from "../helpers/processes.js";
import { startPrivatePostgres, type PrivatePostgres } from "../helpers/private-postgres.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 12);
const PAGES = Number(process.env.BENCH_PAGES ?? 300);
const CHECKOUTS = Number(process.env.BENCH_CHECKOUTS ?? 150);
const PRODUCTS = 100;
const STOCK = 10_000_000;
const AIM = 1.5;
const PROFILE = process.env.BENCH_PROFILE === "1";

const work = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-db-"));

interface Setup {
  name: string;
  /** Product pages only, with the reader's fast path off (BAZAARCHE_DIRECT_READS=0), over another setup's database. */
  viaPrismaOf?: Setup;
  engine: "sqlite" | "postgres";
  processes: number;
  url: string;
  db?: Db;
  apps?: AppProcesses;
  slugs: string[];
  variantIds: string[];
  csrf?: { cookie: string; token: string };
  orders: number;
}

interface Reply {
  status: number;
  body: string;
}

function send(agent: http.Agent, url: string, req: { method: string; headers: Record<string, string>; body: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method: req.method, agent, headers: { ...req.headers, "Content-Length": Buffer.byteLength(req.body) } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(req.body);
  });
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

function statFields(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  } catch {
    return null; // the process ended
  }
}

/** CPU time (ms) of some processes, from /proc. */
function cpuMs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) total += (Number(f[11]) + Number(f[12])) * TICK_MS;
  }
  return total;
}

/**
 * CPU time (ms) of a PostgreSQL server on this machine: the postmaster, its
 * live backends, and (cutime/cstime) the backends that already exited.
 */
function serverCpuMs(postmaster: number | null): number {
  if (!postmaster) return 0;
  const f = statFields(postmaster);
  if (!f) return 0;
  let total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const c = statFields(Number(entry));
    if (c && Number(c[1]) === postmaster) total += (Number(c[11]) + Number(c[12])) * TICK_MS;
  }
  return total;
}

async function drive(setup: Setup, requests: { path: string; method: string; headers: Record<string, string>; body: string }[], expect: number, postmaster: number | null) {
  const agents = setup.apps!.urls.map(() => new http.Agent({ keepAlive: true, maxSockets: CLIENTS }));
  const latencies: number[] = [];
  const replies: Reply[] = new Array(requests.length);
  let next = 0;
  const appCpu = cpuMs(setup.apps!.pids);
  const dbCpu = serverCpuMs(postmaster);
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < requests.length) {
        const i = next++;
        const target = i % setup.apps!.urls.length;
        const t0 = process.hrtime.bigint();
        replies[i] = await send(agents[target]!, `${setup.apps!.urls[target]}${requests[i]!.path}`, requests[i]!);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const appMs = (cpuMs(setup.apps!.pids) - appCpu) / requests.length;
  const dbMs = (serverCpuMs(postmaster) - dbCpu) / requests.length;
  for (const a of agents) a.destroy();
  const wrong = replies.filter((r) => r.status !== expect);
  if (wrong.length) throw new Error(`${setup.name}: ${wrong.length} of ${replies.length} answered ${wrong[0]!.status}, not ${expect}: ${wrong[0]!.body.slice(0, 300)}`);
  return { rate: requests.length / seconds, latencies, replies, appMs, dbMs };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
};

async function seed(db: Db): Promise<{ slugs: string[]; variantIds: string[] }> {
  const slugs: string[] = [];
  const variantIds: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const p = await db.product.create({
      data: {
        slug: `bench-${i}`,
        title: `Bench product ${i}`,
        description: "A product for the benchmark, with a paragraph of description text like a real one has.",
        status: "active",
        optionNames: JSON.stringify(["Size"]),
        variants: { create: ["S", "M"].map((size, position) => ({ sku: `BENCH-${i}-${size}`, option1: size, priceMinor: 1500 + i, currency: "USD", stock: STOCK, position })) },
      },
      include: { variants: true },
    });
    slugs.push(p.slug);
    variantIds.push(...p.variants.map((v) => v.id));
  }
  return { slugs, variantIds };
}

async function main() {
  const stripe = await startFakeStripe();
  const external = [process.env.BENCH_DATABASE_URL, process.env.TEST_DATABASE_URL].find((u) => u && /^postgres(ql)?:\/\//.test(u));
  const privateServer = external ? null : await startPrivatePostgres({ maxConnections: 100, settings: { fsync: "on", full_page_writes: "on", synchronous_commit: "off", shared_buffers: "128MB" } });
  const serverUrl = external ?? privateServer!.url;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const settings = (await admin.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers') ORDER BY name`)).rows;
  const suffix = randomBytes(4).toString("hex");
  const pgUrl = (db: string) => {
    const u = new URL(serverUrl);
    u.pathname = `/${db}`;
    return u.toString();
  };
  mkdirSync(path.join(work, "sqlite"), { recursive: true });
  const setups: Setup[] = [
    { name: "SQLite, 1 process", engine: "sqlite", processes: 1, url: `file:${path.join(work, "sqlite", "bench.db")}`, slugs: [], variantIds: [], orders: 0 },
    { name: "PostgreSQL, 1 process", engine: "postgres", processes: 1, url: pgUrl(`bench_pg1_${suffix}`), slugs: [], variantIds: [], orders: 0 },
    { name: "PostgreSQL, 3 processes", engine: "postgres", processes: 3, url: pgUrl(`bench_pg3_${suffix}`), slugs: [], variantIds: [], orders: 0 },
  ];
  const profileDir = path.join(work, "profile");
  // What the reader's fast path (src/db/reader.ts) saves: the same pages through Prisma's $queryRaw.
  const pageOnly: Setup[] = setups.slice(0, 2).map((of) => ({ ...of, name: `${of.name}, reads via Prisma`, processes: 1, viaPrismaOf: of, slugs: [], variantIds: [], orders: 0 }));
  try {
    for (const s of setups) {
      if (s.engine === "postgres") await admin.query(`CREATE DATABASE "${new URL(s.url).pathname.slice(1)}"`);
      await migrate(s.url);
      s.db = await openDatabase(s.url, { poolSize: 4 });
      Object.assign(s, await seed(s.db));
      const profiled = PROFILE && s.name === "PostgreSQL, 1 process";
      s.apps = await startAppProcesses(s.processes, { DATABASE_URL: s.url, POOL_SIZE: 10, STRIPE_PORT: stripe.port }, profiled ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {});
      const cart = await fetch(`${s.apps.urls[0]}/shop/cart`);
      const cookie = cart.headers.getSetCookie().find((c) => c.startsWith("bz_csrf="))!.split(";")[0]!;
      const token = csrfFrom(await cart.text());
      s.csrf = { cookie, token };
    }
    for (const s of pageOnly) {
      s.slugs = s.viaPrismaOf!.slugs;
      s.apps = await startAppProcesses(1, { DATABASE_URL: s.url, POOL_SIZE: 10, STRIPE_PORT: stripe.port, BAZAARCHE_DIRECT_READS: "0" });
    }
    // The server's postmaster, when it runs on this machine and /proc lets us read it.
    const backend = (await admin.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const postmaster = statFields(backend) ? Number(statFields(backend)![1]) : null;

    const results = new Map<string, { rates: number[]; latencies: number[]; appMs: number[]; dbMs: number[] }>();
    const record = (key: string, run: { rate: number; latencies: number[]; appMs: number; dbMs: number }) => {
      const r = results.get(key) ?? { rates: [], latencies: [], appMs: [], dbMs: [] };
      r.rates.push(run.rate);
      r.latencies.push(...run.latencies);
      r.appMs.push(run.appMs);
      r.dbMs.push(run.dbMs);
      results.set(key, r);
    };

    // Round 0 warms up (JIT and wasm tier-up, caches, pools) and is not counted. It is full size:
    // three processes each see a third of the requests, and a short warm-up left them
    // measurably colder than one process (up to 1.7× the CPU per request).
    for (let round = 0; round <= ROUNDS; round++) {
      const scale = 1;
      for (const s of setups) {
        const pids = s.engine === "postgres" ? postmaster : null;
        const pages = await drive(
          s,
          Array.from({ length: Math.ceil(PAGES * scale) }, (_, i) => ({ path: `/shop/p/${s.slugs[(i * 37) % s.slugs.length]}`, method: "GET", headers: {}, body: "" })),
          200,
          pids,
        );
        // Carts are written beforehand (not timed): two lines, different products.
        const n = Math.ceil(CHECKOUTS * scale);
        const tokens = Array.from({ length: n }, () => randomBytes(24).toString("base64url"));
        await s.db!.$transaction(async (tx) => {
          for (const [i, token] of tokens.entries()) {
            const a = s.variantIds[(i * 7 + round * 13) % s.variantIds.length]!;
            const b = s.variantIds[(i * 11 + round * 5 + 1) % s.variantIds.length]!;
            await tx.cart.create({
              data: {
                tokenHash: createHash("sha256").update(token).digest("hex"),
                currency: "USD",
                items: { create: a === b ? [{ variantId: a, quantity: 2 }] : [{ variantId: a, quantity: 1 }, { variantId: b, quantity: 1 }] },
              },
            });
          }
        });
        const checkouts = await drive(
          s,
          tokens.map((token) => ({
            path: "/shop/checkout",
            method: "POST",
            headers: { Cookie: `${s.csrf!.cookie}; bz_cart=${token}`, "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
            body: new URLSearchParams({ _csrf: s.csrf!.token }).toString(),
          })),
          201,
          pids,
        );
        const events = checkouts.replies.map((r) => {
          const url = (JSON.parse(r.body) as { data: { url: string } }).data.url;
          return stripe.event("checkout.session.completed", stripe.complete(url.split("/").pop()!, { shippingIndex: 0 }));
        });
        const webhooks = await drive(
          s,
          events.map((e) => ({ path: "/shop/webhooks/stripe", method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": e.signature }, body: e.payload })),
          200,
          pids,
        );
        if (webhooks.replies.some((r) => !r.body.includes('"outcome":"paid"'))) throw new Error(`${s.name}: a webhook did not pay its order`);
        s.orders += n;
        const via = pageOnly.find((p) => p.viaPrismaOf === s);
        if (via) {
          const viaPages = await drive(
            via,
            Array.from({ length: Math.ceil(PAGES * scale) }, (_, i) => ({ path: `/shop/p/${s.slugs[(i * 37) % s.slugs.length]}`, method: "GET", headers: {}, body: "" })),
            200,
            pids,
          );
          if (round > 0) record(`${via.name}:page`, viaPages);
        }
        if (round > 0) {
          record(`${s.name}:page`, pages);
          record(`${s.name}:checkout`, checkouts);
          record(`${s.name}:webhook`, webhooks);
        }
      }
    }

    // The figures only count if the work was done right.
    const checks: string[] = [];
    let allOk = true;
    for (const s of setups) {
      const db = s.db!;
      const [paid, pending, emails, ledger, variants, lines] = await Promise.all([
        db.order.count({ where: { status: "paid" } }),
        db.order.count({ where: { status: "pending" } }),
        db.outboxEmail.count({ where: { template: "order_confirmation" } }),
        db.paymentEvent.count(),
        db.variant.findMany({ select: { stock: true, reserved: true } }),
        db.orderLine.aggregate({ _sum: { quantity: true } }),
      ]);
      const sold = variants.reduce((n, v) => n + (STOCK - v.stock), 0);
      const reserved = variants.reduce((n, v) => n + v.reserved, 0);
      const ok = paid === s.orders && pending === 0 && emails === s.orders && ledger === s.orders && reserved === 0 && sold === (lines._sum.quantity ?? 0);
      allOk &&= ok;
      // Rolled-back transactions (each retried conflict is one) and deadlocks, as the server counted them.
      const stats =
        s.engine === "postgres"
          ? (await admin.query<{ rollbacks: string; deadlocks: string }>("SELECT xact_rollback AS rollbacks, deadlocks FROM pg_stat_database WHERE datname = $1", [new URL(s.url).pathname.slice(1)])).rows[0]
          : null;
      checks.push(
        `  ${s.name}: ${paid} of ${s.orders} orders paid once, ${pending} pending, ${sold} units sold = ${lines._sum.quantity} ordered, ${reserved} reserved, ${emails} emails, ${ledger} ledger rows${stats ? `, ${stats.rollbacks} transactions rolled back, ${stats.deadlocks} deadlocks` : ""}: ${ok ? "OK" : "MISMATCH"}`,
      );
    }

    const rate = (key: string) => median(results.get(key)!.rates);
    const lat = (key: string) => {
      const l = results.get(key)!.latencies;
      return `${percentile(l, 50).toFixed(0)} / ${percentile(l, 95).toFixed(0)}`;
    };
    const cpu = (key: string) => {
      const r = results.get(key)!;
      const app = median(r.appMs);
      const db = median(r.dbMs);
      return key.startsWith("SQLite") ? `${app.toFixed(1)}` : `${app.toFixed(1)} + ${db.toFixed(1)}`;
    };
    const base = setups[0]!.name;
    const header = ["", ...setups.map((s) => s.name)];
    const rows: string[][] = [header];
    for (const [label, kind] of [["product pages / s", "page"], ["checkout starts / s", "checkout"], ["webhook events / s", "webhook"]] as const) {
      rows.push([label, ...setups.map((s) => `${rate(`${s.name}:${kind}`).toFixed(0)}${s.name === base ? "" : ` (×${(rate(`${s.name}:${kind}`) / rate(`${base}:${kind}`)).toFixed(2)})`}`)]);
      rows.push(["  latency p50 / p95 ms", ...setups.map((s) => lat(`${s.name}:${kind}`))]);
      rows.push(["  CPU ms / request (app + db)", ...setups.map((s) => cpu(`${s.name}:${kind}`))]);
    }
    const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(`\nDatabase benchmark: median of ${ROUNDS} rounds (after a warm-up round) of ${PAGES} product pages, ${CHECKOUTS} checkouts and ${CHECKOUTS} webhooks per setup,`);
    console.log(`${CLIENTS} concurrent clients, requests round robin over the setup's app processes (pools of 10), ${PRODUCTS} products × 2 variants, carts of two lines.`);
    console.log(`PostgreSQL ${external ? "server from BENCH_DATABASE_URL/TEST_DATABASE_URL" : "private server started by the bench"}: ${settings.map((r) => `${r.name}=${r.setting}`).join(", ")}. SQLite: WAL, synchronous=NORMAL.`);
    console.log(`Node ${process.version}, ${os.cpus().length} CPUs. CPU ms: all app processes${postmaster ? " + all PostgreSQL server processes" : " (the server's CPU could not be read)"}, per request. Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(", ")}.\n`);
    for (const [i, r] of rows.entries()) {
      console.log(`  ${r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("   ")}`);
      if (i === 0) console.log(`  ${"-".repeat(widths.reduce((a, b) => a + b + 3, 0) - 3)}`);
    }
    console.log("\n  Product pages with the reader's fast path off (src/db/reader.ts: pages read through Prisma's $queryRaw):");
    for (const via of pageOnly) {
      const direct = via.viaPrismaOf!.name;
      console.log(`  ${via.name.padEnd(widths[0]! + 10)} ${rate(`${via.name}:page`).toFixed(0).padStart(5)} / s, CPU ${cpu(`${via.name}:page`)} ms; the fast path serves ×${(rate(`${direct}:page`) / rate(`${via.name}:page`)).toFixed(2)} the pages at ${cpu(`${direct}:page`)} ms`);
    }
    const ratio = rate("PostgreSQL, 3 processes:checkout") / rate(`${base}:checkout`);
    console.log(`\nAim: PostgreSQL with 3 processes serves ≥ ${AIM}× the checkouts of one SQLite process: ×${ratio.toFixed(2)} — ${ratio >= AIM ? "met" : "missed"}.`);
    console.log(`\nCheck:\n${checks.join("\n")}`);

    for (const s of [...setups, ...pageOnly]) await s.apps!.stop();
    if (PROFILE) printProfile(profileDir);
    if (!allOk) process.exitCode = 1;
  } finally {
    for (const s of pageOnly) await s.apps?.stop();
    for (const s of setups) {
      await s.apps?.stop();
      await s.db?.$disconnect();
      if (s.engine === "postgres") await admin.query(`DROP DATABASE IF EXISTS "${new URL(s.url).pathname.slice(1)}" WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
    await stripe.close();
    await privateServer?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Self time of a V8 CPU profile, grouped by where the code lives. */
function printProfile(dir: string) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (process.env.BENCH_PROFILE_OUT && files[0]) copyFileSync(path.join(dir, files[0]), process.env.BENCH_PROFILE_OUT);
  if (files.length === 0) return console.log("\n(no CPU profile was written)");
  const profile = JSON.parse(readFileSync(path.join(dir, files[0]!), "utf8")) as {
    nodes: { id: number; callFrame: { functionName: string; url: string } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    const { url, functionName } = node.callFrame;
    if (functionName === "(idle)") return;
    total += dt;
    const group =
      url.startsWith("wasm://") || /query_compiler/.test(url) ? "Prisma query compiler (wasm)"
      : /@prisma\/client|client-engine-runtime/.test(url) ? "Prisma client runtime (JS)"
      : /adapter-pg|\/pg\/|\/pg-protocol\/|\/pg-pool\/|\/pg-types\//.test(url) ? "pg driver and Prisma's pg adapter"
      : /better-sqlite3|adapter-better-sqlite3/.test(url) ? "better-sqlite3"
      : /handlebars/.test(url) ? "Handlebars templates"
      : /express|router|body-parser|cookie|helmet|pino|\/qs\/|path-to-regexp|send\/|finalhandler/.test(url) ? "Express, middleware, logging"
      : /stripe/.test(url) ? "Stripe SDK (signature check, calls)"
      : /tsx|esbuild|node:internal\/modules|compileSourceTextModule|wrapSafe/.test(url + functionName) ? "module loading at start-up"
      : /\/src\//.test(url) ? "Bazaarche code"
      : functionName === "(garbage collector)" ? "garbage collector"
      : ["writev", "writeBuffer", "writeUtf8String", "read", "(program)"].includes(functionName) || url === "" ? "native code: socket I/O, crypto, runtime"
      : url.startsWith("node:") ? "Node.js library code"
      : "other";
    self.set(group, (self.get(group) ?? 0) + dt);
    const fn = `${functionName || "(anonymous)"} ${url.split("/node_modules/").pop()?.split("/").slice(0, 3).join("/") ?? url}`;
    fns.set(fn, (fns.get(fn) ?? 0) + dt);
  });
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nWhere one PostgreSQL app process spent its CPU (${(total / 1e6).toFixed(1)} s sampled, idle excluded):`);
  for (const [group, t] of top(self, 12)) console.log(`  ${((t / total) * 100).toFixed(1).padStart(5)} %  ${group}`);
  console.log("  top functions by self time:");
  for (const [fn, t] of top(fns, 12)) console.log(`  ${((t / total) * 100).toFixed(1).padStart(5)} %  ${fn}`);
}

main().catch((err) => {
  console.error(err);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
