import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { JobDefinition } from "../src/jobs/job.js";
import { allJobs } from "../src/jobs/registry.js";
import { createScheduler, runJobOnce, takeJobLease, ensureJobRow } from "../src/jobs/scheduler.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";

let t: TestApp;
let admin: TestAgent;
let clock = Date.parse("2026-11-20T10:00:00Z");
beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date(clock) });
  const who = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, who.email, who.password);
});
afterAll(() => t.close());

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const lease = (name: string) => t.db.jobLease.findUniqueOrThrow({ where: { name } });

describe("job scheduler", () => {
  it("runs a job once per period however many instances try at the same moment", async () => {
    let runs = 0;
    const job: JobDefinition = { name: "test.once", everyMs: 60_000, run: async () => ++runs };
    const tries = await Promise.all(["a", "b", "c", "d"].map((owner) => runJobOnce(t.deps, job, { owner })));
    expect(tries.filter((r) => r.ran)).toHaveLength(1);
    expect(runs).toBe(1);
    // Not due again until its period is over.
    expect((await runJobOnce(t.deps, job, { owner: "b" })).ran).toBe(false);
    clock += 60_000;
    const again = await Promise.all(["a", "b"].map((owner) => runJobOnce(t.deps, job, { owner })));
    expect(again.filter((r) => r.ran)).toHaveLength(1);
    expect(runs).toBe(2);
    expect(await lease("test.once")).toMatchObject({ runs: 2, lastStatus: "ok", lastResult: "2", leaseUntil: null });
  });

  it("a crashed instance's lease keeps others out until it runs out, then another instance takes over", async () => {
    const job: JobDefinition = { name: "test.crash", everyMs: 1000, leaseMs: 30_000, run: async () => "done" };
    await ensureJobRow(t.deps, job.name);
    // Instance A takes the lease and dies: it never finishes or releases.
    expect(await takeJobLease(t.deps, job, { owner: "instance-a" })).not.toBeNull();
    clock += 5_000;
    expect((await runJobOnce(t.deps, job, { owner: "instance-b" })).ran).toBe(false);
    expect((await runJobOnce(t.deps, job, { owner: "instance-b", force: true })).ran).toBe(false);
    clock += 30_000;
    expect(await runJobOnce(t.deps, job, { owner: "instance-b" })).toMatchObject({ ran: true, status: "ok", result: "done" });
    expect(await lease(job.name)).toMatchObject({ owner: "instance-b", lastStatus: "ok", leaseUntil: null });
  });

  it("records progress, duration, result and errors, and the admin jobs page shows them with a CSRF-protected 'run now'", async () => {
    const seen: unknown[] = [];
    const progressJob: JobDefinition = {
      name: "test.progress",
      everyMs: 60_000,
      async run(_deps, ctx) {
        await ctx.progress(5, 10, "half way");
        seen.push(await t.db.jobLease.findUniqueOrThrow({ where: { name: "test.progress" }, select: { progressDone: true, progressTotal: true, progressNote: true, lastStatus: true } }));
        return { imported: 10 };
      },
    };
    const failing: JobDefinition = { name: "test.failing", everyMs: 60_000, run: async () => Promise.reject(new Error("disk full")) };
    await runJobOnce(t.deps, progressJob);
    expect(await runJobOnce(t.deps, failing)).toMatchObject({ ran: true, status: "error", error: "disk full" });
    expect(seen).toEqual([{ progressDone: 5, progressTotal: 10, progressNote: "half way", lastStatus: "running" }]);
    expect(await lease("test.progress")).toMatchObject({ lastStatus: "ok", lastResult: '{"imported":10}', progressDone: 5, progressTotal: 10 });
    expect((await lease("test.progress")).lastDurationMs).toBeGreaterThanOrEqual(0);
    expect(await lease("test.failing")).toMatchObject({ lastStatus: "error", lastError: "disk full", failures: 1 });

    const page = await admin.get("/shop/admin/jobs").expect(200);
    const $ = load(page.text);
    // Every job of the shop is listed, run or not.
    for (const job of allJobs()) expect($(`tr[data-job="${job.name}"]`)).toHaveLength(1);
    expect($('tr[data-job="test.progress"]').text()).toContain('{"imported":10}');
    expect($('tr[data-job="test.progress"]').text()).toContain("half way");
    expect($('tr[data-job="test.failing"] .field-error').text()).toBe("disk full");
    expect($('tr[data-job="test.failing"]').text()).toContain("Error");

    clock += 1000;
    await admin.post("/shop/admin/jobs/test.failing/run").type("form").send({}).expect(403);
    await admin.post("/shop/admin/jobs/test.failing/run").type("form").send({ _csrf: csrfFrom(page.text) }).expect(303);
    expect((await lease("test.failing")).nextRunAt.getTime()).toBe(clock);
    await admin.post("/shop/admin/jobs/no.such.job/run").type("form").send({ _csrf: csrfFrom(page.text) }).expect(404);
    const fa = await admin.get("/shop/admin/jobs?lang=fa").expect(200);
    expect(load(fa.text)("h1").text()).toBe("کارهای پس‌زمینه");
  });

  it("a chunked job that returns { more: true } runs again at once until its work is done", async () => {
    let left = 3;
    const finished = deferred();
    const job: JobDefinition = {
      name: "test.chunks",
      everyMs: 3_600_000,
      async run(_deps, ctx) {
        left--;
        await ctx.progress(3 - left, 3, `chunk ${3 - left}`);
        if (left === 0) finished.resolve();
        return { more: left > 0 };
      },
    };
    const scheduler = createScheduler(t.deps, { jobs: [job], tickMs: 10 });
    await finished.promise;
    await scheduler.stop();
    expect(left).toBe(0);
    expect(await lease("test.chunks")).toMatchObject({ runs: 3, progressDone: 3, progressTotal: 3, progressNote: "chunk 3", lastResult: '{"more":false}' });
  });

  it("stop() aborts the run in flight through its signal, waits for it, and releases the lease", async () => {
    const started = deferred();
    let sawAbort = false;
    let returned = false;
    const job: JobDefinition = {
      name: "test.stop",
      everyMs: 60_000,
      async run(_deps, ctx) {
        started.resolve();
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        sawAbort = ctx.signal.aborted;
        // Finishes its chunk after the abort, as a real job would.
        await t.db.jobLease.count();
        returned = true;
        return { stoppedAt: "chunk boundary" };
      },
    };
    const scheduler = createScheduler(t.deps, { jobs: [job], tickMs: 10 });
    await started.promise;
    expect((await lease("test.stop")).leaseUntil!.getTime()).toBeGreaterThan(clock);
    await scheduler.stop();
    expect(sawAbort).toBe(true);
    expect(returned).toBe(true);
    // Released at once, and due again now: the next instance picks up where this one stopped.
    expect(await lease("test.stop")).toMatchObject({ leaseUntil: null, lastStatus: "aborted" });
    expect((await lease("test.stop")).nextRunAt.getTime()).toBe(clock);
  });

  it("a run whose lease was taken over is told through its signal, and what it reports afterwards is not written", async () => {
    const inside = deferred();
    const proceed = deferred();
    let abortedAfterProgress = false;
    const job: JobDefinition = {
      name: "test.lost",
      everyMs: 60_000,
      leaseMs: 10_000,
      async run(_deps, ctx) {
        inside.resolve();
        await proceed.promise;
        await ctx.progress(1, 2, "after the takeover");
        abortedAfterProgress = ctx.signal.aborted;
      },
    };
    const run = runJobOnce(t.deps, job, { owner: "slow" });
    await inside.promise;
    // This process stalled past its lease; another instance took the job over.
    clock += 11_000;
    expect(await takeJobLease(t.deps, { ...job }, { owner: "other", force: true })).not.toBeNull();
    proceed.resolve();
    expect((await run).status).toBe("aborted");
    expect(abortedAfterProgress).toBe(true);
    expect(await lease("test.lost")).toMatchObject({ owner: "other", progressNote: null, lastStatus: "running" });
  });

  it("refuses two jobs with one name", () => {
    const job: JobDefinition = { name: "dup", everyMs: 1000, run: async () => null };
    expect(() => createScheduler(t.deps, { jobs: [job, job] })).toThrow(/Two background jobs are named "dup"/);
  });

  it("the shop's jobs have unique names, and no setInterval is left outside src/jobs", () => {
    const names = allJobs().map((j) => j.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["checkout.sweep", "mail.outbox", "notifications.owner"]));
    const root = path.resolve(import.meta.dirname, "../src");
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (name === "generated") continue;
        if (statSync(full).isDirectory()) walk(full);
        else if (full.endsWith(".ts") && !full.startsWith(path.join(root, "jobs")) && /\bsetInterval\s*\(/.test(readFileSync(full, "utf8"))) offenders.push(path.relative(root, full));
      }
    };
    walk(root);
    // Not background work: the live streams' heartbeat writes a comment line to
    // the connections this process holds open (and drops the ones that stopped
    // reading); it exists only while streams are open, and no other instance could do it.
    expect(offenders).toEqual(["live/live.stream.ts"]);
  });
});

describe("the scheduler's own loop", () => {
  it("starts due jobs by itself on its tick", async () => {
    const ran = deferred<number>();
    const scheduler = createScheduler(t.deps, { jobs: [{ name: "test.tick", everyMs: 60_000, run: async () => ran.resolve(Date.now()) }], tickMs: 10 });
    await ran.promise;
    await vi.waitFor(async () => expect((await lease("test.tick")).lastStatus).toBe("ok"));
    await scheduler.stop();
  });
});
