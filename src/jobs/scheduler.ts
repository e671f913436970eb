import { randomUUID } from "node:crypto";
import os from "node:os";
import type { Deps } from "../deps.js";
import type { JobContext, JobDefinition } from "./job.js";

export const DEFAULT_LEASE_MS = 5 * 60_000;
const RESULT_MAX_CHARS = 2000;

export interface JobRunOutcome {
  /** false when another instance (or run) holds the lease, or the job is not due. */
  ran: boolean;
  status?: "ok" | "error" | "aborted";
  result?: unknown;
  error?: string;
  durationMs?: number;
}

export interface JobScheduler {
  readonly instanceId: string;
  /** Runs one job now if no one holds its lease (its schedule is ignored); resolves with the outcome. */
  runNow(name: string): Promise<JobRunOutcome>;
  /** Stops starting runs, aborts the runs in flight (their signal) and waits for them to return. */
  stop(): Promise<void>;
}

/** "host:pid:random": unique per process, readable in the admin's jobs page. */
export function newInstanceId() {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * A run that returns `{ more: true }` has more work queued (a chunked job that
 * did one chunk): it is due again at once instead of after `everyMs`.
 */
function wantsMore(result: unknown) {
  return typeof result === "object" && result !== null && (result as { more?: unknown }).more === true;
}

function isUniqueViolation(err: unknown) {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "P2002";
}

/**
 * The lease row of a job, created on first use. Two instances may race to
 * create it: the insert relies on the primary key and the loser ignores the
 * conflict (a read-then-insert would be a race on PostgreSQL).
 */
export async function ensureJobRow(deps: Pick<Deps, "db">, name: string) {
  try {
    await deps.db.jobLease.create({ data: { name, nextRunAt: new Date(0) } });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
}

/**
 * Takes a job's lease with one conditional update: only when the lease is
 * free (never taken, released, or past its time — a crashed instance's lease
 * simply runs out) or already this owner's, and, unless forced, when the run
 * is due. Whoever's update changes the row runs; everyone else skips. On
 * PostgreSQL the second UPDATE waits for the first's row lock and then sees
 * the new lease in its WHERE, so it changes nothing.
 */
export async function takeJobLease(deps: Pick<Deps, "db" | "now">, job: JobDefinition, input: { owner: string; force?: boolean }) {
  const now = deps.now();
  const runId = randomUUID();
  const leaseMs = job.leaseMs ?? DEFAULT_LEASE_MS;
  const taken = await deps.db.jobLease.updateMany({
    where: {
      name: job.name,
      ...(input.force ? {} : { nextRunAt: { lte: now } }),
      OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }, { owner: input.owner }],
    },
    data: {
      owner: input.owner,
      runId,
      leaseUntil: new Date(now.getTime() + leaseMs),
      nextRunAt: new Date(now.getTime() + job.everyMs),
      lastStartedAt: now,
      lastStatus: "running",
      progressDone: null,
      progressTotal: null,
      progressNote: null,
      progressAt: null,
      runs: { increment: 1 },
    },
  });
  return taken.count === 1 ? { runId, startedAt: now, leaseMs } : null;
}

function serialise(result: unknown): string | null {
  if (result === undefined) return null;
  try {
    const json = JSON.stringify(result);
    return json.length > RESULT_MAX_CHARS ? `${json.slice(0, RESULT_MAX_CHARS)}…` : json;
  } catch {
    return JSON.stringify(String(result));
  }
}

/**
 * One run of one job under its lease: takes the lease (or returns
 * `{ ran: false }`), keeps it alive while the run lasts, records progress,
 * the duration and the result or error, and releases it. If the lease is lost
 * (this process stalled past it and another took over) the run's signal is
 * aborted and nothing it reports is written any more.
 */
export async function runJobOnce(deps: Deps, job: JobDefinition, options: { owner?: string; signal?: AbortSignal; force?: boolean } = {}): Promise<JobRunOutcome> {
  const owner = options.owner ?? newInstanceId();
  let lease = await takeJobLease(deps, job, { owner, force: options.force });
  if (!lease && !(await deps.db.jobLease.findUnique({ where: { name: job.name }, select: { name: true } }))) {
    await ensureJobRow(deps, job.name);
    lease = await takeJobLease(deps, job, { owner, force: options.force });
  }
  if (!lease) return { ran: false };
  const { runId, leaseMs } = lease;

  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  // Renewing the lease: a row update that matches only while this run holds it.
  const extend = async (data: Record<string, unknown> = {}) => {
    const now = deps.now();
    const kept = await deps.db.jobLease.updateMany({ where: { name: job.name, runId }, data: { ...data, leaseUntil: new Date(now.getTime() + leaseMs) } });
    if (kept.count === 0 && !controller.signal.aborted) controller.abort(new Error(`lease of job ${job.name} was lost`));
  };
  const heartbeat = setInterval(() => {
    extend().catch((err: unknown) => deps.logger.warn({ err, job: job.name }, "job lease renewal failed"));
  }, Math.max(250, Math.floor(leaseMs / 3)));
  heartbeat.unref();

  const ctx: JobContext = {
    signal: controller.signal,
    async progress(done, total, note) {
      await extend({ progressDone: Math.trunc(done), progressTotal: total === undefined ? null : Math.trunc(total), progressNote: note ? note.slice(0, 500) : null, progressAt: deps.now() });
    },
  };

  const started = performance.now();
  let status: "ok" | "error" | "aborted" = "ok";
  let result: unknown;
  let error: string | undefined;
  try {
    result = await job.run(deps, ctx);
    if (controller.signal.aborted) status = "aborted";
  } catch (err) {
    status = controller.signal.aborted ? "aborted" : "error";
    error = err instanceof Error ? err.message : String(err);
    if (status === "error") deps.logger.error({ err, job: job.name }, `job ${job.name} failed; it runs again at its next time`);
  } finally {
    clearInterval(heartbeat);
    options.signal?.removeEventListener("abort", onAbort);
  }
  const durationMs = Math.round(performance.now() - started);
  const now = deps.now();
  await deps.db.jobLease.updateMany({
    where: { name: job.name, runId },
    data: {
      // Released at once: the next instance need not wait for the lease to run out.
      leaseUntil: null,
      runId: null,
      lastFinishedAt: now,
      lastDurationMs: durationMs,
      lastStatus: status,
      lastResult: serialise(result),
      lastError: error ? error.slice(0, 2000) : null,
      ...(status === "error" ? { failures: { increment: 1 } } : {}),
      // Unfinished work (a chunked job, or a run cut short by shutdown) is due again now.
      ...(wantsMore(result) || status === "aborted" ? { nextRunAt: now } : {}),
    },
  });
  return { ran: true, status, result, error, durationMs };
}

/**
 * Runs the given jobs on their schedules until stopped. Every `tickMs` it
 * reads the lease rows (one query) and starts each job that is due and not
 * already running here; the lease decides which instance actually runs it.
 * The timer is unref'd (it never keeps a web process alive on its own)
 * unless `keepAlive` is set, as the worker process does.
 */
export function createScheduler(deps: Deps, options: { jobs: JobDefinition[]; tickMs?: number; instanceId?: string; keepAlive?: boolean }): JobScheduler {
  const names = new Set<string>();
  for (const job of options.jobs) {
    if (names.has(job.name)) throw new Error(`Two background jobs are named "${job.name}"`);
    if (!(job.everyMs > 0)) throw new Error(`Job "${job.name}" needs a positive everyMs`);
    names.add(job.name);
  }
  const instanceId = options.instanceId ?? newInstanceId();
  const tickMs = options.tickMs ?? 1000;
  const shutdown = new AbortController();
  const running = new Map<string, Promise<JobRunOutcome>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const start = (job: JobDefinition, force = false) => {
    const run = runJobOnce(deps, job, { owner: instanceId, signal: shutdown.signal, force })
      .catch((err: unknown): JobRunOutcome => {
        // The database itself failed (locked, gone): logged, tried again next tick.
        deps.logger.error({ err, job: job.name }, `job ${job.name} could not be started`);
        return { ran: false, status: "error", error: err instanceof Error ? err.message : String(err) };
      })
      .finally(() => running.delete(job.name));
    running.set(job.name, run);
    return run;
  };

  const tick = async () => {
    try {
      const rows = await deps.db.jobLease.findMany({ where: { name: { in: [...names] } }, select: { name: true, nextRunAt: true, leaseUntil: true } });
      const now = deps.now().getTime();
      for (const job of options.jobs) {
        if (stopped || running.has(job.name)) continue;
        const row = rows.find((r) => r.name === job.name);
        // A cheap pre-check; the conditional update in takeJobLease is what decides.
        if (row && (row.nextRunAt.getTime() > now || (row.leaseUntil && row.leaseUntil.getTime() > now))) continue;
        void start(job);
      }
    } catch (err) {
      deps.logger.error({ err }, "job scheduler tick failed; trying again");
    } finally {
      if (!stopped) {
        timer = setTimeout(() => void tick(), tickMs);
        if (!options.keepAlive) timer.unref();
      }
    }
  };
  void tick();

  return {
    instanceId,
    async runNow(name) {
      const job = options.jobs.find((j) => j.name === name);
      if (!job) throw new Error(`No background job named "${name}"`);
      const inFlight = running.get(name);
      if (inFlight) await inFlight;
      return start(job, true);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      shutdown.abort(new Error("shutting down"));
      await Promise.allSettled([...running.values()]);
    },
  };
}
