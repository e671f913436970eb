import type { Deps } from "../deps.js";
import type { JobDefinition } from "../jobs/job.js";

const CHUNK = 500;

/**
 * Deletes database rate-limit rows whose window ended more than an hour ago
 * (a key that comes back just starts a new row), in chunks of 500 so a
 * backlog never holds the database for long. Nothing to do for the memory
 * and Redis stores (Redis keys expire by themselves).
 */
export async function pruneRateLimits(deps: Deps, input: { signal?: AbortSignal; maxChunks?: number } = {}): Promise<{ deleted: number }> {
  if (deps.rateLimits.kind !== "database") return { deleted: 0 };
  const cutoff = new Date(deps.now().getTime() - 60 * 60_000);
  let deleted = 0;
  for (let chunk = 0; chunk < (input.maxChunks ?? 20) && !input.signal?.aborted; chunk++) {
    const stale = await deps.db.rateLimitHit.findMany({ where: { resetAt: { lt: cutoff } }, select: { key: true }, orderBy: { key: "asc" }, take: CHUNK });
    if (stale.length === 0) break;
    // Re-checked in the delete: a key hit again since it was read is kept.
    const done = await deps.db.rateLimitHit.deleteMany({ where: { key: { in: stale.map((r) => r.key) }, resetAt: { lt: cutoff } } });
    deleted += done.count;
    if (stale.length < CHUNK) break;
  }
  return { deleted };
}

/** Register with the scheduler in src/jobs (issue 10). */
export function rateLimitJobs(): JobDefinition[] {
  return [
    {
      name: "rate-limit.prune",
      everyMs: 15 * 60_000,
      async run(deps, ctx) {
        const result = await pruneRateLimits(deps, { signal: ctx.signal });
        await ctx.progress(result.deleted, undefined, `${result.deleted} expired rate-limit windows removed`);
        return result;
      },
    },
  ];
}
