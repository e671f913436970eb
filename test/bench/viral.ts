/**
 * npm run bench:viral — one product page under a burst of anonymous phones.
 *
 * Seeds a temporary SQLite database with the demo shop (products, images,
 * reviews, posts), starts the storefront in a child process on 127.0.0.1,
 * and measures with autocannon, 64 connections, in alternating rounds in one
 * run:
 *  - product: GET /shop/p/<a demo product>, as a first-time visitor (no
 *    cookies): the page cache (src/pages) reads the page's version from the
 *    database (requests that arrive together share one read) and serves the
 *    rendered page from memory, as the same bytes for everyone;
 *  - uncached: the same page from a second storefront on the same database
 *    with pageCache: false (rendered on every request), for reference;
 *  - static: a file with exactly the product page's bytes, served by
 *    express.static in the same Express app and process;
 *  - live: the demo's upcoming live show (/shop/live/friday-live) as a first
 *    visit, also from the page cache (for reference: a different page size).
 * Prints median requests/second, latency and server CPU per request, and
 * product / static. Target (issue 14.1): ≥ 0.8.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS per round (default 4),
 * BENCH_CONNECTIONS (default 64).
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import express from "express";
import { pino } from "pino";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { seedDemoShop } from "../../src/seed/demo.js";
import { createStorefront } from "../../src/storefront.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SLUG = "kilim-cushion-cover";

/** Child process: two storefronts (cache on and off) and the static file, one Express app, one port. */
async function serve(file: string, dir: string) {
  const prisma = await openDatabase(`file:${file}`);
  const common = { prisma, shopName: "Bench Studio", publicUrl: "https://bench.example/shop", logger: pino({ level: "silent" }), uploadsDir: path.join(dir, "uploads") };
  const shop = createStorefront(common);
  await seedDemoShop(shop.bazaarche.deps, {});
  const uncached = createStorefront({ ...common, publicUrl: "https://bench.example/plain", pageCache: false });
  const host = express();
  host.use("/shop", shop);
  host.use("/plain", uncached);
  const staticDir = path.join(dir, "static");
  host.use("/static", express.static(staticDir));
  const server = host.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const page = await fetch(`http://127.0.0.1:${port}/shop/p/${SLUG}`);
  if (!page.ok) throw new Error(`product page: ${page.status}`);
  const html = Buffer.from(await page.arrayBuffer());
  const { mkdirSync } = await import("node:fs");
  mkdirSync(staticDir, { recursive: true });
  writeFileSync(path.join(staticDir, "page.html"), html);
  process.send!({ port, bytes: html.length, cacheControl: page.headers.get("cache-control") });
  process.on("message", (m) => {
    if (m === "cpu") process.send!({ cpu: process.cpuUsage(), stats: shop.bazaarche.pageCache });
    if (m === "exit") process.exit(0);
  });
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type Run = { rps: number; p50: number; p99: number; cpuMs: number };

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-viral-"));
  const file = path.join(dir, "bench.db");
  try {
    migrateDatabase(file);
    const child = fork(fileURLToPath(import.meta.url), ["--serve", file, dir], { execArgv: ["--import", "tsx", ...(process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])], stdio: "inherit" });
    const ready = await new Promise<{ port: number; bytes: number; cacheControl: string }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { port: number; bytes: number; cacheControl: string }));
      child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    });
    const origin = `http://127.0.0.1:${ready.port}`;
    const server = () =>
      new Promise<{ cpu: number; stats: { renders: number; hits: number; versionReads: number } }>((resolve) => {
        child.once("message", (m) => {
          const { cpu, stats } = m as { cpu: { user: number; system: number }; stats: { renders: number; hits: number; versionReads: number } };
          resolve({ cpu: cpu.user + cpu.system, stats });
        });
        child.send("cpu");
      });
    console.log(`Server on ${origin}; product page ${(ready.bytes / 1024).toFixed(1)} KiB, Cache-Control: ${ready.cacheControl}.`);

    const load = async (url: string, seconds: number): Promise<Run> => {
      const before = await server();
      const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
      const after = await server();
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuMs: (after.cpu - before.cpu) / 1000 / Math.max(1, result.requests.total) };
    };
    const urls = { product: `${origin}/shop/p/${SLUG}`, uncached: `${origin}/plain/p/${SLUG}`, static: `${origin}/static/page.html`, live: `${origin}/shop/live/friday-live` };
    for (const url of Object.values(urls)) await load(url, 2); // warm-up
    const runs: Record<keyof typeof urls, Run[]> = { product: [], uncached: [], static: [], live: [] };
    const before = (await server()).stats;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ["static", "product", "uncached", "live"] as const) runs[name].push(await load(urls[name], SECONDS));
      console.log(`round ${round + 1}: ${(["static", "product", "uncached", "live"] as const).map((n) => `${n} ${runs[n].at(-1)!.rps.toFixed(0)} req/s`).join(", ")}`);
    }
    const after = (await server()).stats;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.send("exit");
    });

    const row = (name: string, list: Run[]) => ({ name, rps: median(list.map((r) => r.rps)), p50: median(list.map((r) => r.p50)), p99: median(list.map((r) => r.p99)), cpuMs: median(list.map((r) => r.cpuMs)) });
    const rows = [row("static file, same bytes (express.static)", runs.static), row("product page, page cache on", runs.product), row("product page, pageCache: false", runs.uncached), row("live show page, first visit, page cache on", runs.live)];
    console.log(`\nMedian of ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${(ready.bytes / 1024).toFixed(1)} KiB each.\n`);
    console.log("| | req/s | p50 ms | p99 ms | server CPU ms/req |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const r of rows) console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuMs.toFixed(2)} |`);
    console.log(`\nPage cache during the measured rounds: ${after.renders - before.renders} renders, ${after.hits - before.hits} answers from memory, ${after.versionReads - before.versionReads} version reads.`);
    const ratio = rows[1]!.rps / rows[0]!.rps;
    console.log(`Product page / static file: ${ratio.toFixed(2)} by req/s (target ≥ 0.8: ${ratio >= 0.8 ? "met" : "missed"}); uncached / static: ${(rows[2]!.rps / rows[0]!.rps).toFixed(2)}.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3]!, process.argv[4]!);
} else {
  await main();
}
