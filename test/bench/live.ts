/**
 * npm run bench:live — live shows under a crowd (issue 11, "Performance").
 *
 * Three processes: this driver; the storefront on 127.0.0.1 in a child
 * process (so its CPU time and RSS are its own), which also serves a bare
 * node:http SSE endpoint as the baseline; and the viewers in another child
 * process, holding 1,000 SSE connections to each.
 *
 * 1. Fan-out. Rounds alternate: the baseline server writes one event to its
 *    1,000 streams; the host features an item through POST
 *    /api/v1/live/:id/feature and the storefront's 1,000 streams get the
 *    `featured` event (transaction, event log, Broadcaster wake-up, one read,
 *    one write per stream). Each viewer notes when its event arrived; the
 *    driver noted when it sent the request. Reported: p50 / p99 / max of
 *    that delay over the viewers (median of the rounds), the server's CPU
 *    time per viewer per event, its RSS idle and with 1,000 viewers.
 *    Aim: p99 under 1 s.
 * 2. Claim burst. Rounds alternate: 500 viewers (each with its own cookies
 *    and CSRF token, pages loaded beforehand) send GET /health at once
 *    (baseline), then POST /live/:code/claims at once for a new item with 20
 *    units. Checked every round: exactly 20 claims held (201) and 20 active
 *    holds, the 480 others answered 409 sold_out with a waitlist place.
 *    Reported: requests per second (500 / time from the first request to the
 *    last answer), p50 / p99 latency. Aim: at least 300 claims/s.
 *
 * Environment: BENCH_VIEWERS (1000), BENCH_CLAIMERS (500), BENCH_UNITS (20),
 * BENCH_ROUNDS (5).
 */
import { fork, type ChildProcess } from "node:child_process";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";
import { pino } from "pino";
import { createApiToken } from "../../src/auth/auth.service.js";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { addLiveItem, createLiveSession, startLiveSession } from "../../src/live/live.service.js";
import { createStorefront } from "../../src/storefront.js";

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 1000);
const CLAIMERS = Number(process.env.BENCH_CLAIMERS ?? 500);
const UNITS = Number(process.env.BENCH_UNITS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECRET = "bench-secret-that-is-at-least-32-characters";
const now = () => performance.timeOrigin + performance.now();

// ───────────────────────────── the server process ─────────────────────────────

async function serve(file: string) {
  const prisma = await openDatabase(`file:${file}`);
  const shop = createStorefront({ prisma, shopName: "Bench", logger: pino({ level: "silent" }), secret: SECRET, uploadsDir: path.join(path.dirname(file), "uploads") });
  const deps = shop.bazaarche.deps;
  const actor = { type: "system" as const };
  const session = await createLiveSession(deps, { session: { title: "Bench show", hostName: "Bench", platform: "instagram", startsAt: new Date(), holdMinutes: 15, streamUrl: "", replayUrl: "", code: "bench-show" }, actor });
  const products = [];
  for (let i = 0; i < 2 + ROUNDS; i++) {
    products.push(
      await prisma.product.create({
        data: { slug: `bench-${i}`, title: `Bench item ${i}`, status: "active", variants: { create: [{ sku: `BENCH-${i}`, priceMinor: 2500, currency: "USD", stock: i < 2 ? 1000 : UNITS }] } },
        include: { variants: true },
      }),
    );
  }
  const items = [];
  for (const [i, p] of products.entries()) items.push({ ...(await addLiveItem(deps, { sessionId: session.id, item: { productId: p.id, claimCode: String(10 + i), livePriceMinor: 2000, perBuyerLimit: null, quantityCap: null, followerPriceMinor: null, followerMinDays: null, followerVerification: "any" }, actor })), variantId: p.variants[0]!.id });
  await startLiveSession(deps, { id: session.id, actor });
  const { token } = await createApiToken(deps, { name: "bench" });

  const app = express();
  app.use("/shop", shop);
  const server = app.listen(0, "127.0.0.1");
  server.maxConnections = 50_000;
  await new Promise((r) => server.once("listening", r));

  // The baseline: the least an SSE fan-out can be — a set of responses and one write each.
  const bare = new Set<http.ServerResponse>();
  const baseline = http.createServer((req, res) => {
    if (req.url === "/events") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
      res.write("retry: 3000\n\n");
      bare.add(res);
      res.on("close", () => bare.delete(res));
      return;
    }
    if (req.method === "POST" && req.url === "/publish") {
      const frame = Buffer.from(`id: ${Date.now()}\nevent: featured\ndata: ${JSON.stringify({ itemId: "baseline", productId: "baseline" })}\n\n`);
      for (const r of bare) r.write(frame);
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404).end();
  });
  baseline.listen(0, "127.0.0.1");
  await new Promise((r) => baseline.once("listening", r));

  // BENCH_PROFILE=<dir>: a CPU profile of the claim bursts only (node:inspector), for finding what a claim costs.
  const { Session } = await import("node:inspector/promises");
  const inspector = new Session();
  process.on("message", async (m: { cmd: string }) => {
    if (m.cmd === "profile-start" && process.env.BENCH_PROFILE) {
      inspector.connect();
      await inspector.post("Profiler.enable");
      await inspector.post("Profiler.start");
    }
    if (m.cmd === "profile-stop" && process.env.BENCH_PROFILE) {
      const { profile } = await inspector.post("Profiler.stop");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(path.join(process.env.BENCH_PROFILE, "claims.cpuprofile"), JSON.stringify(profile));
    }
    if (m.cmd === "usage") process.send!({ cmd: "usage", cpu: process.cpuUsage(), rss: process.memoryUsage().rss, streams: shop.bazaarche.live.streamCount() });
  });
  process.send!({
    cmd: "ready",
    port: (server.address() as AddressInfo).port,
    baselinePort: (baseline.address() as AddressInfo).port,
    sessionId: session.id,
    code: session.code,
    token,
    items: items.map((i) => ({ id: i.id, variantId: i.variantId })),
  });
}

// ───────────────────────────── the viewers' process ─────────────────────────────

interface Stream {
  set: string;
  armedAt: number | null;
  arrived: number | null;
}

function viewers() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const streams: Stream[] = [];
  let armed: string | null = null;
  const report = () => {
    if (!armed) return;
    const set = streams.filter((s) => s.set === armed);
    if (set.every((s) => s.arrived !== null)) {
      const times = set.map((s) => s.arrived!);
      armed = null;
      process.send!({ cmd: "arrivals", times });
    }
  };
  const open = (set: string, url: string) =>
    new Promise<void>((resolve, reject) => {
      const stream: Stream = { set, armedAt: null, arrived: null };
      const req = http.get(url, { agent, headers: { Accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`${url}: ${res.statusCode}`));
        streams.push(stream);
        res.setEncoding("utf8");
        let buffer = "";
        res.on("data", (chunk: string) => {
          buffer += chunk;
          let at: number;
          while ((at = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            if (armed === set && stream.arrived === null && block.includes("event: featured")) {
              stream.arrived = now();
              report();
            }
          }
        });
        resolve();
      });
      req.on("error", (err) => reject(new Error(`viewer stream ${url}: ${err.message}`)));
    });
  process.on("message", async (m: { cmd: string; set?: string; url?: string; n?: number }) => {
    if (m.cmd === "open") {
      // In batches, so the listen backlog is never the bottleneck being measured.
      for (let i = 0; i < m.n!; i += 100) await Promise.all(Array.from({ length: Math.min(100, m.n! - i) }, () => open(m.set!, m.url!)));
      process.send!({ cmd: "opened", n: streams.filter((s) => s.set === m.set).length });
    }
    if (m.cmd === "arm") {
      armed = m.set!;
      for (const s of streams) if (s.set === m.set) s.arrived = null;
      process.send!({ cmd: "armed" });
    }
    if (m.cmd === "exit") process.exit(0);
  });
  process.send!({ cmd: "up" });
}

// ───────────────────────────── the driver ─────────────────────────────

const ask = <T>(child: ChildProcess, message: object, reply: string) =>
  new Promise<T>((resolve) => {
    const on = (m: { cmd: string }) => {
      if (m.cmd !== reply) return;
      child.off("message", on);
      resolve(m as T);
    };
    child.on("message", on);
    child.send(message);
  });
const waitFor = <T>(child: ChildProcess, reply: string) =>
  new Promise<T>((resolve) => {
    const on = (m: { cmd: string }) => {
      if (m.cmd !== reply) return;
      child.off("message", on);
      resolve(m as T);
    };
    child.on("message", on);
  });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

type Usage = { cpu: NodeJS.CpuUsage; rss: number; streams: number };

function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; agent: http.Agent }) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; ms: number }>((resolve, reject) => {
    const started = now();
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: opts.agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, ms: now() - started }));
    });
    req.on("error", (err) => reject(new Error(`${opts.method ?? "GET"} ${url}: ${err.message}`)));
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-live-"));
  const file = path.join(dir, "bench.db");
  migrateDatabase(file);
  const self = fileURLToPath(import.meta.url);
  const server = fork(self, ["--serve", file], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const ready = await waitFor<{ port: number; baselinePort: number; sessionId: string; code: string; token: string; items: { id: string; variantId: string }[] }>(server, "ready");
  const origin = `http://127.0.0.1:${ready.port}`;
  const clients = fork(self, ["--viewers"], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  await waitFor(clients, "up");
  const usage = () => ask<Usage>(server, { cmd: "usage" }, "usage");
  const cpuMs = (a: Usage, b: Usage) => (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000;
  const load = os.loadavg().map((l) => l.toFixed(1)).join(" ");

  try {
    // ── fan-out ──
    const idle = await usage();
    await ask(clients, { cmd: "open", set: "live", url: `${origin}/shop/live/${ready.code}/events`, n: VIEWERS }, "opened");
    const withViewers = await usage();
    await ask(clients, { cmd: "open", set: "baseline", url: `http://127.0.0.1:${ready.baselinePort}/events`, n: VIEWERS }, "opened");
    // A fresh connection per request: a kept-alive one may be closed by the server while idle between rounds.
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const rounds = { live: [] as { p50: number; p99: number; max: number; cpu: number }[], baseline: [] as { p50: number; p99: number; max: number; cpu: number }[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const set of ["baseline", "live"] as const) {
        await ask(clients, { cmd: "arm", set }, "armed");
        const before = await usage();
        const arrivals = waitFor<{ times: number[] }>(clients, "arrivals");
        const t0 = now();
        if (set === "live") {
          const res = await request(`${origin}/shop/api/v1/live/${ready.sessionId}/feature`, {
            method: "POST",
            agent,
            headers: { Authorization: `Bearer ${ready.token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ itemId: ready.items[r % 2]!.id }),
          });
          if (res.status !== 200) throw new Error(`feature: ${res.status} ${res.body}`);
        } else {
          await request(`http://127.0.0.1:${ready.baselinePort}/publish`, { method: "POST", agent });
        }
        const { times } = await arrivals;
        const after = await usage();
        const delays = times.map((t) => t - t0);
        rounds[set].push({ p50: pct(delays, 50), p99: pct(delays, 99), max: Math.max(...delays), cpu: (cpuMs(before, after) * 1000) / VIEWERS });
        await new Promise((res) => setTimeout(res, 300));
      }
    }
    const fan = (set: "live" | "baseline", k: "p50" | "p99" | "max" | "cpu") => median(rounds[set].map((x) => x[k]));

    // ── claim burst ──
    const burstAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const people: { cookie: string; csrf: string }[] = [];
    for (let i = 0; i < CLAIMERS; i++) {
      const page = await request(`${origin}/shop/live/${ready.code}`, { agent: burstAgent, headers: { "User-Agent": "Mozilla/5.0 (iPhone) bench" } });
      const cookies = (page.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]!).join("; ");
      const csrf = /name="csrf-token" content="([^"]+)"/.exec(page.body)?.[1];
      if (!csrf) throw new Error("no CSRF token on the live page");
      people.push({ cookie: cookies, csrf });
    }
    const db = await openDatabase(`file:${file}`);
    const burst = { claims: [] as { rps: number; p50: number; p99: number; cpu: number }[], baseline: [] as { rps: number; p50: number; p99: number; cpu: number }[] };
    let exact = true;
    server.send({ cmd: "profile-start" });
    for (let r = 0; r < ROUNDS; r++) {
      const item = ready.items[2 + r]!;
      for (const kind of ["baseline", "claims"] as const) {
        const before = await usage();
        const t0 = now();
        const results = await Promise.all(
          people.map((p) =>
            kind === "baseline"
              ? request(`${origin}/shop/health`, { agent: burstAgent, headers: { Cookie: p.cookie } })
              : request(`${origin}/shop/live/${ready.code}/claims`, {
                  method: "POST",
                  agent: burstAgent,
                  headers: { Cookie: p.cookie, "X-CSRF-Token": p.csrf, "Content-Type": "application/json", Accept: "application/json" },
                  body: JSON.stringify({ itemId: item.id, variantId: item.variantId }),
                }),
          ),
        );
        const wall = now() - t0;
        const after = await usage();
        const ms = results.map((x) => x.ms);
        burst[kind].push({ rps: (CLAIMERS / wall) * 1000, p50: pct(ms, 50), p99: pct(ms, 99), cpu: cpuMs(before, after) / CLAIMERS });
        if (kind === "claims") {
          const held = results.filter((x) => x.status === 201).length;
          const soldOut = results.filter((x) => x.status === 409 && JSON.parse(x.body).error?.code === "sold_out" && JSON.parse(x.body).error?.details?.waitlist?.position > 0).length;
          const holds = await db.stockHold.count({ where: { variantId: item.variantId, status: "active" } });
          const other = results.filter((x) => x.status !== 201 && x.status !== 409).map((x) => `${x.status} ${x.body.slice(0, 120)}`);
          if (held !== UNITS || holds !== UNITS || soldOut !== CLAIMERS - UNITS) {
            exact = false;
            console.error(`round ${r + 1}: ${held} claims held, ${holds} active holds, ${soldOut} sold out with a waitlist place${other.length ? `; others: ${other.slice(0, 3).join(" | ")}` : ""}`);
          }
        }
      }
    }
    server.send({ cmd: "profile-stop" });
    await db.$disconnect();
    const b = (kind: "claims" | "baseline", k: "rps" | "p50" | "p99" | "cpu") => median(burst[kind].map((x) => x[k]));

    const f1 = (n: number) => n.toFixed(1);
    const f0 = (n: number) => Math.round(n).toLocaleString("en-US");
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    const row = (label: string, a: string, c: string, ratio: string) => console.log(`${label.padEnd(38)}${a.padStart(14)}${c.padStart(14)}${ratio.padStart(10)}`);
    console.log(`\nbench:live — ${os.cpus().length} CPUs, load average ${load} at the start; median of ${ROUNDS} rounds\n`);
    console.log(`Fan-out: ${f0(VIEWERS)} SSE viewers in another process, one featured item per round`);
    row("", "bare SSE", "live", "live/bare");
    row("delivery delay p50 ms", f1(fan("baseline", "p50")), f1(fan("live", "p50")), `×${(fan("live", "p50") / fan("baseline", "p50")).toFixed(2)}`);
    row("delivery delay p99 ms", f1(fan("baseline", "p99")), f1(fan("live", "p99")), `×${(fan("live", "p99") / fan("baseline", "p99")).toFixed(2)}`);
    row("every viewer has it (max) ms", f1(fan("baseline", "max")), f1(fan("live", "max")), `×${(fan("live", "max") / fan("baseline", "max")).toFixed(2)}`);
    row("server CPU µs per viewer per event", f1(fan("baseline", "cpu")), f1(fan("live", "cpu")), `×${(fan("live", "cpu") / fan("baseline", "cpu")).toFixed(2)}`);
    console.log(`server RSS: ${mb(idle.rss)} MB idle, ${mb(withViewers.rss)} MB with ${f0(VIEWERS)} live viewers (${f1((withViewers.rss - idle.rss) / VIEWERS / 1024)} KB per viewer)`);
    const fanMet = fan("live", "p99") < 1000;
    console.log(`aim: p99 under 1 s → ${fanMet ? "met" : "missed"} (${f1(fan("live", "p99"))} ms)\n`);

    console.log(`Claim burst: ${f0(CLAIMERS)} viewers at once for ${UNITS} units`);
    row("", "GET /health", "claims", "claims/bare");
    row("requests per second", f0(b("baseline", "rps")), f0(b("claims", "rps")), `×${(b("claims", "rps") / b("baseline", "rps")).toFixed(2)}`);
    row("latency p50 ms", f1(b("baseline", "p50")), f1(b("claims", "p50")), "");
    row("latency p99 ms", f1(b("baseline", "p99")), f1(b("claims", "p99")), "");
    row("server CPU ms per request", f1(b("baseline", "cpu")), f1(b("claims", "cpu")), `×${(b("claims", "cpu") / b("baseline", "cpu")).toFixed(2)}`);
    console.log(`claims per second of one fully used core, from that CPU time: ${f0(1000 / b("claims", "cpu"))}`);
    console.log(`exactly ${UNITS} holds and ${CLAIMERS - UNITS} "sold out, on the waitlist" every round: ${exact ? "yes" : "NO"}`);
    const burstMet = b("claims", "rps") >= 300;
    console.log(`aim: at least 300 claims/s → ${burstMet ? "met" : "missed"} (${f0(b("claims", "rps"))} claims/s)\n`);
    if (!exact) process.exitCode = 1;
  } finally {
    clients.send({ cmd: "exit" });
    server.kill();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") await serve(process.argv[3]!);
else if (process.argv[2] === "--viewers") viewers();
else await main();
