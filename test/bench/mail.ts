/**
 * npm run bench:mail — the outbox sender against a real SMTP server, and what
 * 10,000 queued emails do to the shop.
 *
 * The parent runs an SMTP server (`smtp-server`, every message read to the
 * end and accepted) and autocannon; a child process runs the storefront and
 * its jobs exactly as `npm start` does (one process, one database
 * connection), over a temporary SQLite database with 24 products.
 *
 *  1. Sender throughput, in alternating rounds within one run:
 *     - baseline: the same emails sent straight through the same nodemailer
 *       SMTP pool (4 connections), no database;
 *     - outbox: the emails queued with queueEmail (rendered, multipart) and
 *       drained by the outbox job (claim with a lease, send, record).
 *     Prints the median emails/second of each and the ratio. Aim: the outbox
 *     at 0.5 or more of the bare sender.
 *  2. 10,000 emails queued at once: time to queue them, time for the job
 *     scheduler to drain them, the server process's peak RSS, and the p99
 *     latency of the storefront's home page while the drain runs against
 *     the same page measured idle just before. Aim: p99 during the drain at
 *     most 2× idle.
 *
 * Environment: BENCH_EMAILS per throughput round (default 1000), BENCH_ROUNDS
 * (default 3), BENCH_BACKLOG (default 10000), BENCH_SECONDS of load for the
 * page measurements (default 8), BENCH_CONNECTIONS (default 4).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import express from "express";
import { pino } from "pino";
import { SMTPServer } from "smtp-server";
import { openDatabase } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";
import { startJobs } from "../../src/jobs/registry.js";
import { outboxSenderJob } from "../../src/mail/mail.jobs.js";
import { queueEmail } from "../../src/mail/outbox.service.js";
import { createSmtpSender } from "../../src/mail/sender.js";
import { createStorefront } from "../../src/storefront.js";

const EMAILS = Number(process.env.BENCH_EMAILS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Msg = { type: string; [k: string]: unknown };

/** Child: the storefront and its jobs, as `npm start` runs them. */
async function serve(file: string, smtpUrl: string) {
  const prisma = await openDatabase(`file:${file}`);
  const sender = createSmtpSender(smtpUrl);
  const shop = createStorefront({
    prisma,
    shopName: "Bench Studio",
    publicUrl: "https://bench.example/shop",
    logger: pino({ level: "silent" }),
    uploadsDir: path.join(path.dirname(file), "uploads"),
    mail: { sender, from: "Bench Studio <shop@bench.example>" },
  });
  const deps = shop.bazaarche.deps;
  for (let p = 0; p < 24; p++) {
    await deps.db.product.create({
      data: {
        slug: `bench-${p}`,
        title: `Handmade piece no. ${p}`,
        description: "Made by hand in our studio.",
        brand: "Bench Studio",
        status: "active",
        optionNames: JSON.stringify(["Colour"]),
        variants: { create: [0, 1, 2].map((v) => ({ sku: `B-${p}-${v}`, option1: ["Turquoise", "Saffron", "Walnut"][v], priceMinor: 1500 + p * 100, currency: "USD", stock: 5 + v, position: v })) },
      },
    });
  }
  const host = express();
  host.use("/shop", shop);
  const server = host.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  let peakRss = process.memoryUsage().rss;
  // Sampling memory is the bench's own timer, not the shop's.
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  sampler.unref();

  let batch = 0;
  const queue = async (n: number) => {
    batch++;
    const started = performance.now();
    for (let i = 0; i < n; i += 500) {
      await deps.db.$transaction(async (tx) => {
        for (let j = i; j < Math.min(n, i + 500); j++) {
          await queueEmail(tx, {
            to: `shopper${j}@bench.example`,
            toName: `Shopper ${j}`,
            subject: `Order #${1000 + j} confirmed`,
            template: "order_confirmation",
            dedupeKey: `bench:${batch}:${j}`,
            locale: j % 2 ? "fa" : "en",
            linkBase: deps.shop.publicUrl,
            data: { shopName: "Bench Studio", number: 1000 + j, currency: "USD", lines: [{ quantity: 2, title: "Handmade piece no. 3", variantTitle: "Saffron", totalMinor: 3600 }], subtotalMinor: 3600, discountMinor: 0, shippingMinor: 500, totalMinor: 4100 },
          });
        }
      });
    }
    return performance.now() - started;
  };
  const queued = () => deps.db.outboxEmail.count({ where: { status: "queued" } });

  process.on("message", async (m: Msg) => {
    if (m.type === "bare") {
      // The same kind of email through the same kind of pool, without the outbox.
      const bare = createSmtpSender(smtpUrl);
      const row = await deps.db.outboxEmail.findFirst({ where: { template: "order_confirmation" } });
      const html = row?.html ?? "<p>x</p>";
      const text = row?.text ?? "x";
      const started = performance.now();
      let next = 0;
      const lane = async () => {
        while (next < (m.n as number)) {
          const i = next++;
          await bare.send({ from: "Bench Studio <shop@bench.example>", to: { address: `bare${i}@bench.example`, name: `Shopper ${i}` }, subject: `Order #${i} confirmed`, text, html, messageId: `<bare-${m.round}-${i}@bench.example>`, date: new Date(), headers: {} });
        }
      };
      await Promise.all([0, 1, 2, 3].map(lane));
      const ms = performance.now() - started;
      await bare.close();
      process.send!({ type: "done", ms });
    } else if (m.type === "outbox") {
      await queue(m.n as number);
      const started = performance.now();
      // The job as the scheduler runs it, run after run until nothing is due.
      const { runJobOnce } = await import("../../src/jobs/scheduler.js");
      while ((await queued()) > 0) await runJobOnce(deps, outboxSenderJob, { force: true });
      process.send!({ type: "done", ms: performance.now() - started });
    } else if (m.type === "backlog") {
      const queueMs = await queue(m.n as number);
      process.send!({ type: "queued", queueMs, count: await queued() });
    } else if (m.type === "drain") {
      peakRss = process.memoryUsage().rss;
      const rssBefore = peakRss;
      const started = performance.now();
      const jobs = startJobs(deps, { jobs: [outboxSenderJob], tickMs: 100 });
      while ((await queued()) > 0) await new Promise((r) => setTimeout(r, 100));
      const ms = performance.now() - started;
      await jobs.stop();
      process.send!({ type: "drained", ms, rssBefore, peakRss, sent: await deps.db.outboxEmail.count({ where: { status: "sent" } }), failed: await deps.db.outboxEmail.count({ where: { status: "failed" } }) });
    }
  });
  process.send!({ type: "ready", port: (server.address() as AddressInfo).port });
}

function ask(child: ChildProcess, msg: Msg, reply: string) {
  return new Promise<Msg>((resolve) => {
    const on = (m: Msg) => {
      if (m.type === reply) {
        child.off("message", on);
        resolve(m);
      }
    };
    child.on("message", on);
    child.send(msg);
  });
}

async function load(url: string, seconds: number) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.non2xx };
}

async function main() {
  let received = 0;
  const smtp = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS", "AUTH"],
    size: 0,
    onData(stream, _session, cb) {
      stream.on("data", () => {});
      stream.on("end", () => {
        received++;
        cb(null, "Ok: queued");
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = ((smtp as unknown as { server: import("node:net").Server }).server.address() as AddressInfo).port;

  const dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-bench-mail-"));
  const file = path.join(dir, "bench.db");
  migrateDatabase(file);
  const child = fork(fileURLToPath(import.meta.url), ["--serve", file, `smtp://127.0.0.1:${smtpPort}`], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const ready = await new Promise<Msg>((resolve) => child.once("message", (m: Msg) => resolve(m)));
  const page = `http://127.0.0.1:${ready.port}/shop/`;
  console.log(`bench:mail — ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}; SMTP server on 127.0.0.1:${smtpPort}\n`);

  // 1. Throughput, alternating rounds.
  const bare: number[] = [];
  const outbox: number[] = [];
  await ask(child, { type: "outbox", n: 50 }, "done"); // warm-up: templates compiled, pool connected
  for (let round = 0; round < ROUNDS; round++) {
    const b = await ask(child, { type: "bare", n: EMAILS, round }, "done");
    bare.push(EMAILS / ((b.ms as number) / 1000));
    const o = await ask(child, { type: "outbox", n: EMAILS }, "done");
    outbox.push(EMAILS / ((o.ms as number) / 1000));
    console.log(`  round ${round + 1}: bare sender ${bare.at(-1)!.toFixed(0)} emails/s, outbox job ${outbox.at(-1)!.toFixed(0)} emails/s`);
  }
  const ratio = median(outbox) / median(bare);
  console.log(`\nSender throughput (${EMAILS} emails per round, median of ${ROUNDS}):`);
  console.log(`  baseline, nodemailer pool straight to SMTP: ${median(bare).toFixed(0)} emails/s`);
  console.log(`  outbox job (claim, send, record):           ${median(outbox).toFixed(0)} emails/s`);
  console.log(`  ratio ${ratio.toFixed(2)} — aim ≥ 0.50: ${ratio >= 0.5 ? "met" : "missed"}`);

  // 2. The backlog.
  const idle = await load(page, SECONDS);
  const queued = await ask(child, { type: "backlog", n: BACKLOG }, "queued");
  console.log(`\n${BACKLOG} emails queued in ${((queued.queueMs as number) / 1000).toFixed(1)} s (${queued.count} waiting)`);
  const receivedBefore = received;
  const drained = ask(child, { type: "drain" }, "drained");
  const during = await load(page, SECONDS);
  const d = await drained;
  const mb = (n: unknown) => ((n as number) / 1024 / 1024).toFixed(0);
  console.log(`  drained by the job scheduler in ${((d.ms as number) / 1000).toFixed(1)} s (${(BACKLOG / ((d.ms as number) / 1000)).toFixed(0)} emails/s), ${received - receivedBefore} received by the SMTP server, ${d.failed} failed`);
  console.log(`  server RSS ${mb(d.rssBefore)} MB before the drain, peak ${mb(d.peakRss)} MB during it`);
  console.log(`  home page idle:         ${idle.rps.toFixed(0)} req/s, p50 ${idle.p50} ms, p99 ${idle.p99} ms (${idle.errors} errors)`);
  console.log(`  home page during drain: ${during.rps.toFixed(0)} req/s, p50 ${during.p50} ms, p99 ${during.p99} ms (${during.errors} errors)`);
  const p99Ratio = during.p99 / Math.max(1, idle.p99);
  console.log(`  p99 during / idle ${p99Ratio.toFixed(2)} — aim ≤ 2.00: ${p99Ratio <= 2 ? "met" : "missed"}`);

  child.kill("SIGTERM");
  smtp.close();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3]!, process.argv[4]!);
} else {
  await main();
}
