import type { Deps } from "../deps.js";
import type { JobDefinition } from "./job.js";
import { allJobs } from "./registry.js";

/**
 * Every job with its last run, for the admin: the known definitions (so a job
 * that never ran is listed too) merged with the lease rows (so a job another
 * version or process registered still shows).
 */
export async function listJobs(deps: Deps, input: { jobs?: JobDefinition[] } = {}) {
  const defs = input.jobs ?? allJobs();
  const rows = await deps.db.jobLease.findMany({ orderBy: { name: "asc" } });
  const now = deps.now();
  const names = [...new Set([...defs.map((d) => d.name), ...rows.map((r) => r.name)])].sort();
  return names.map((name) => {
    const def = defs.find((d) => d.name === name);
    const row = rows.find((r) => r.name === name);
    const running = !!row?.leaseUntil && row.leaseUntil > now && row.lastStatus === "running";
    let result: unknown = null;
    if (row?.lastResult) {
      try {
        result = JSON.parse(row.lastResult);
      } catch {
        result = row.lastResult;
      }
    }
    return {
      name,
      everyMs: def?.everyMs ?? null,
      everySeconds: def ? Math.round(def.everyMs / 100) / 10 : null,
      registered: !!def,
      running,
      owner: row?.owner ?? null,
      leaseUntil: row?.leaseUntil ?? null,
      nextRunAt: row?.nextRunAt ?? null,
      lastStartedAt: row?.lastStartedAt ?? null,
      lastFinishedAt: row?.lastFinishedAt ?? null,
      lastDurationMs: row?.lastDurationMs ?? null,
      lastStatus: row?.lastStatus ?? null,
      lastResult: result,
      lastResultText: row?.lastResult ?? null,
      lastError: row?.lastError ?? null,
      progress: row?.progressAt ? { done: row.progressDone, total: row.progressTotal, note: row.progressNote, at: row.progressAt } : null,
      runs: row?.runs ?? 0,
      failures: row?.failures ?? 0,
    };
  });
}

/**
 * "Run now": makes a job due at once. Whichever process runs the scheduler
 * (this one, another instance, `npm run worker`) starts it at its next tick,
 * under the lease as always. Also how one-off work is started: queue the
 * work, then call this for the job that processes it.
 */
export async function requestJobRun(deps: Pick<Deps, "db" | "now">, name: string) {
  const changed = await deps.db.jobLease.updateMany({ where: { name }, data: { nextRunAt: deps.now() } });
  if (changed.count === 0) await deps.db.jobLease.create({ data: { name, nextRunAt: deps.now() } }).catch((err: { code?: string }) => {
    if (err.code !== "P2002") throw err;
  });
}
