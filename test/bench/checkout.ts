/**
 * npm run bench:checkout — checkout starts and Stripe webhook events per second.
 *
 * One run, two processes: this one holds a temporary migrated SQLite database,
 * the fake Stripe HTTP server from test/helpers/fake-stripe.ts and the HTTP
 * clients; a child process (this script with --serve) runs the storefront on a
 * real HTTP server on 127.0.0.1, its real `stripe` SDK talking to the fake.
 * So "CPU ms" is the shop's own CPU (process.cpuUsage() of the child, read over
 * IPC around each measured run), not Stripe's or the clients'. In the same
 * child, with the same Prisma client, it measures the baseline: a bare Prisma
 * order transaction (one conditional stock UPDATE plus one Order INSERT, no
 * HTTP). For 1 client and then 8 concurrent clients it measures:
 *  - checkout starts/s: POST /checkout, each from its own cart (carts are
 *    written to the database beforehand, so only checkout itself is timed:
 *    pricing, stock holds, the pending order, the Checkout Session at the fake
 *    Stripe, the order's payment ref);
 *  - webhook events/s: signed checkout.session.completed events for those
 *    orders, POST /webhooks/stripe (signature check, ledger, order paid, stock
 *    sold, confirmation email queued), each event built and signed beforehand.
 * Rounds interleave the baseline and the two client counts so a busy machine
 * slows all alike; the table shows medians. Target (issue 14.3): CPU per
 * checkout start and per webhook event at most 3× the bare transaction. At the
 * end it checks the results: every order paid once, stock and emails add up.
 *
 * BENCH_PROFILE=dir writes a V8 CPU profile of the storefront process there.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";
import { pino } from "pino";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { createStorefront } from "../../src/storefront.js";
import { StripeGateway } from "../../src/payments/stripe-gateway.js";
import { startFakeStripe, WEBHOOK_SECRET } from "../helpers/fake-stripe.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_CHECKOUTS ?? 200);
const CLIENTS = [1, 8] as const;
const STOCK = 10_000_000;

const serving = process.argv[2] === "--serve";
const dir = serving ? path.dirname(process.argv[3]!) : mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-checkout-"));
const file = serving ? process.argv[3]! : path.join(dir, "bench.db");
const BASELINE_PROVIDER = "bench-baseline";

interface Reply {
  status: number;
  body: string;
}

function send(agent: http.Agent, origin: string, req: { method: string; path: string; headers: Record<string, string>; body: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const r = http.request(`${origin}${req.path}`, { method: req.method, agent, headers: { ...req.headers, "Content-Length": Buffer.byteLength(req.body) } }, (res) => {
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

/** Sends every request with `clients` workers over keep-alive connections; returns wall time and per-request latencies. */
async function drive(shop: Shop, origin: string, clients: number, requests: { method: string; path: string; headers: Record<string, string>; body: string }[], expect: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  const replies: Reply[] = new Array(requests.length);
  let next = 0;
  const cpu = await shop.cpu();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests.length) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        replies[i] = await send(agent, origin, requests[i]!);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // The shop's CPU time per request (the child process only): a figure a busy machine does not distort as much as wall time.
  const cpuMsPerRequest = ((await shop.cpu()) - cpu) / requests.length;
  agent.destroy();
  const wrong = replies.filter((r) => r.status !== expect);
  if (wrong.length) throw new Error(`${wrong.length} of ${replies.length} answered ${wrong[0]!.status}, not ${expect}: ${wrong[0]!.body.slice(0, 300)}`);
  return { seconds, latencies, replies, cpuMsPerRequest };
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** The storefront in its own process, driven over IPC: its CPU clock and the baseline transactions. */
interface Shop {
  origin: string;
  /** The child's CPU time so far, ms (user + system). */
  cpu(): Promise<number>;
  /** Runs n bare order transactions one after another; returns the child's CPU ms per transaction. */
  baseline(n: number): Promise<number>;
  close(): Promise<void>;
}

type Request = { id: number; kind: "cpu" } | { id: number; kind: "baseline"; n: number; variantId: string };

async function startShop(stripePort: number): Promise<Shop> {
  const profile = process.env.BENCH_PROFILE;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve", file, String(stripePort)], {
    execArgv: [...process.execArgv, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [])],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<number, (value: number) => void>();
  let seq = 0;
  const origin = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`storefront process exited (${code})`)));
    child.on("message", (m: { ready?: string; id?: number; value?: number }) => {
      if (m.ready) resolve(m.ready);
      else if (m.id !== undefined) waiting.get(m.id)?.(m.value!), waiting.delete(m.id);
    });
  });
  const ask = (req: Omit<Request, "id"> & Record<string, unknown>) =>
    new Promise<number>((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.send({ ...req, id });
    });
  return {
    origin,
    cpu: () => ask({ kind: "cpu" }),
    baseline: (n: number) => ask({ kind: "baseline", n, variantId: baselineVariantId }),
    close: async () => {
      child.removeAllListeners("exit");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ kind: "exit" });
      await exited;
    },
  };
}
let baselineVariantId = "";

/** The child: the storefront over HTTP, plus the bare transaction on the same Prisma client. */
async function serve(stripePort: number) {
  const prisma = await openDatabase(`file:${file}`);
  const payments = new StripeGateway({ secretKey: "sk_test_bench", webhookSecret: WEBHOOK_SECRET, host: "127.0.0.1", port: stripePort, protocol: "http" });
  const secret = randomBytes(32).toString("hex");
  const shop = createStorefront({ prisma, payments, secret, shopName: "Bench Shop", currency: "USD", logger: pino({ level: "silent" }), uploadsDir: path.join(dir, "uploads") });
  const server = express().use(shop).listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  let number = 900_000_000;
  /**
   * The floor a checkout is compared with: what any order costs through
   * Prisma at the least, a conditional stock update and an order insert in
   * one interactive transaction.
   */
  const bareOrder = (variantId: string) =>
    prisma.$transaction(async (tx) => {
      const taken = await tx.$executeRaw`UPDATE "Variant" SET "reserved" = "reserved" + 1 WHERE "id" = ${variantId} AND "stock" - "reserved" >= 1`;
      if (taken !== 1) throw new Error("baseline variant sold out");
      await tx.order.create({ data: { number: ++number, status: "cancelled", currency: "USD", subtotalMinor: 2400, totalMinor: 2400, paymentProvider: BASELINE_PROVIDER } });
    });
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  process.on("message", async (m: Request | { kind: "exit" }) => {
    if (m.kind === "exit") {
      server.close();
      await prisma.$disconnect();
      process.exit(0);
    }
    if (m.kind === "cpu") return process.send!({ id: m.id, value: cpuMs() });
    const start = cpuMs();
    for (let i = 0; i < m.n; i++) await bareOrder(m.variantId);
    process.send!({ id: m.id, value: (cpuMs() - start) / m.n });
  });
  // The bench process went away (finished or crashed): so does its server.
  process.once("disconnect", () => process.exit(0));
  process.send!({ ready: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

async function main() {
  migrateDatabase(file);
  const prisma = await openDatabase(`file:${file}`);
  const stripe = await startFakeStripe();
  const baselineProduct = await prisma.product.create({
    data: { slug: "bench-baseline", title: "Baseline", status: "draft", optionNames: "[]", variants: { create: [{ sku: "BASELINE", priceMinor: 2400, currency: "USD", stock: STOCK, position: 0 }] } },
    include: { variants: true },
  });
  baselineVariantId = baselineProduct.variants[0]!.id;
  const shop = await startShop(stripe.port);
  const origin = shop.origin;

  const product = await prisma.product.create({
    data: {
      slug: "bench-mug",
      title: "Bench Mug",
      status: "active",
      optionNames: JSON.stringify(["Colour"]),
      variants: { create: ["Blue", "Red", "Green"].map((c, position) => ({ sku: `BENCH-${c}`, option1: c, priceMinor: 2400 + position * 100, currency: "USD", stock: STOCK, position })) },
    },
    include: { variants: true },
  });

  // One CSRF cookie/token pair serves every request (the check is per browser, not per cart).
  const home = await fetch(`${origin}/`);
  const csrfCookie = home.headers.getSetCookie().find((c) => c.startsWith("bz_csrf="))!.split(";")[0]!;
  const page = await home.text();
  const csrf = (/name="_csrf" value="([^"]+)"/.exec(page) ?? /<meta name="csrf-token" content="([^"]+)"/.exec(page))?.[1];
  if (!csrf) throw new Error("no CSRF token on the home page");

  /** n carts, each with two lines, written straight to the database (not timed). */
  async function makeCarts(n: number) {
    const tokens = Array.from({ length: n }, () => randomBytes(24).toString("base64url"));
    await prisma.$transaction(async (tx) => {
      for (const token of tokens) {
        await tx.cart.create({
          data: {
            tokenHash: createHash("sha256").update(token).digest("hex"),
            currency: "USD",
            items: { create: [{ variantId: product.variants[0]!.id, quantity: 1 }, { variantId: product.variants[1 + (token.charCodeAt(0) % 2)]!.id, quantity: 2 }] },
          },
        });
      }
    });
    return tokens;
  }

  const results = new Map<string, { rates: number[]; latencies: number[]; cpu: number[] }>();
  const record = (key: string, n: number, run: { seconds: number; latencies: number[]; cpuMsPerRequest: number }) => {
    const r = results.get(key) ?? { rates: [], latencies: [], cpu: [] };
    r.rates.push(n / run.seconds);
    r.latencies.push(...run.latencies);
    r.cpu.push(run.cpuMsPerRequest);
    results.set(key, r);
  };

  let ordersPaid = 0;
  const baseline: number[] = [];
  // Round 0 is a warm-up (JIT, page cache, prepared statements) and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    const bare = await shop.baseline(round === 0 ? 40 : PER_ROUND);
    if (round > 0) baseline.push(bare);
    for (const clients of CLIENTS) {
      const n = round === 0 ? 40 : PER_ROUND;
      const carts = await makeCarts(n);
      const checkouts = await drive(
        shop,
        origin,
        clients,
        carts.map((token) => ({
          method: "POST",
          path: "/checkout",
          headers: { Cookie: `${csrfCookie}; bz_cart=${token}`, "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
          body: new URLSearchParams({ _csrf: csrf }).toString(),
        })),
        201,
      );
      // The shopper pays at "Stripe": complete each session and sign its webhook (not timed).
      const events = checkouts.replies.map((r) => {
        const url = (JSON.parse(r.body) as { data: { url: string } }).data.url;
        const session = stripe.complete(url.split("/").pop()!, { shippingIndex: 0 });
        return stripe.event("checkout.session.completed", session);
      });
      const webhooks = await drive(
        shop,
        origin,
        clients,
        events.map((e) => ({ method: "POST", path: "/webhooks/stripe", headers: { "Content-Type": "application/json", "Stripe-Signature": e.signature }, body: e.payload })),
        200,
      );
      if (webhooks.replies.some((r) => !r.body.includes('"outcome":"paid"'))) throw new Error("a webhook did not pay its order");
      ordersPaid += n;
      if (round > 0) {
        record(`checkout:${clients}`, n, checkouts);
        record(`webhook:${clients}`, n, webhooks);
      }
    }
  }

  // The figures only count if the work was done right.
  const [paid, pending, emails, variants, ledger] = await Promise.all([
    prisma.order.count({ where: { status: "paid", paymentProvider: { not: BASELINE_PROVIDER } } }),
    prisma.order.count({ where: { status: "pending", paymentProvider: { not: BASELINE_PROVIDER } } }),
    prisma.outboxEmail.count(),
    prisma.variant.findMany({ where: { productId: product.id } }),
    prisma.paymentEvent.count(),
  ]);
  const units = ordersPaid * 3;
  const sold = variants.reduce((n, v) => n + (STOCK - v.stock), 0);
  const reserved = variants.reduce((n, v) => n + v.reserved, 0);
  const ok = paid === ordersPaid && pending === 0 && sold === units && reserved === 0 && ledger === ordersPaid;

  const cell = (key: string) => median(results.get(key)!.rates);
  const lat = (key: string) => {
    const l = results.get(key)!.latencies;
    return `${percentile(l, 50).toFixed(1)} / ${percentile(l, 95).toFixed(1)}`;
  };
  const cpuOf = (key: string) => median(results.get(key)!.cpu);
  const cpu = (key: string) => cpuOf(key).toFixed(1);
  const bare = median(baseline);
  const ratio = (key: string) => `×${(cpuOf(key) / bare).toFixed(1)}`;
  const rows: [string, string, string, string][] = [
    ["", "1 client", "8 clients", "8 vs 1"],
    ["checkout starts / s", cell("checkout:1").toFixed(0), cell("checkout:8").toFixed(0), `×${(cell("checkout:8") / cell("checkout:1")).toFixed(2)}`],
    ["  latency p50 / p95 ms", lat("checkout:1"), lat("checkout:8"), ""],
    ["  CPU ms per checkout", cpu("checkout:1"), cpu("checkout:8"), ""],
    ["  × bare transaction", ratio("checkout:1"), ratio("checkout:8"), ""],
    ["webhook events / s", cell("webhook:1").toFixed(0), cell("webhook:8").toFixed(0), `×${(cell("webhook:8") / cell("webhook:1")).toFixed(2)}`],
    ["  latency p50 / p95 ms", lat("webhook:1"), lat("webhook:8"), ""],
    ["  CPU ms per event", cpu("webhook:1"), cpu("webhook:8"), ""],
    ["  × bare transaction", ratio("webhook:1"), ratio("webhook:8"), ""],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`\nCheckout benchmark: median of ${ROUNDS} rounds × ${PER_ROUND} checkouts per client count (after a warm-up round),`);
  console.log(`each checkout a new cart of 2 lines / 3 units; fake Stripe on 127.0.0.1; SQLite ${path.basename(file)} (WAL); Node ${process.version}, ${os.cpus().length} CPUs.`);
  console.log(`CPU ms is the storefront process's own CPU per request (fake Stripe and the clients run in the bench process).`);
  console.log(`Baseline, same process and Prisma client, same rounds: a bare order transaction (conditional stock UPDATE + Order INSERT) = ${bare.toFixed(2)} CPU ms.`);
  console.log(`Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(", ")}.\n`);
  for (const [i, r] of rows.entries()) {
    console.log(`  ${r[0].padEnd(widths[0]!)}  ${r[1].padStart(widths[1]!)}  ${r[2].padStart(widths[2]!)}  ${r[3].padStart(widths[3]!)}`);
    if (i === 0) console.log(`  ${"-".repeat(widths.reduce((a, b) => a + b + 2, 0) - 2)}`);
  }
  console.log(`\nCheck: ${paid} orders paid of ${ordersPaid} started, ${pending} pending, ${sold} units sold (expected ${units}), ${reserved} still reserved, ${emails} confirmation emails, ${ledger} ledger entries: ${ok ? "OK" : "MISMATCH"}`);
  const over = (["checkout:1", "checkout:8", "webhook:1", "webhook:8"] as const).filter((k) => cpuOf(k) > 3 * bare);
  console.log(`Target: CPU per checkout start and per webhook event ≤ 3× the bare transaction: ${over.length === 0 ? "met" : `missed (${over.map((k) => `${k.replace(":", " ")} client${k.endsWith(":1") ? "" : "s"} ${ratio(k)}`).join(", ")})`}.`);

  await shop.close();
  await stripe.close();
  await prisma.$disconnect();
  rmSync(dir, { recursive: true, force: true });
  if (!ok) process.exit(1);
}

if (serving) {
  serve(Number(process.argv[4])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
}
