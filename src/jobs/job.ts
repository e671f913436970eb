import type { Deps } from "../deps.js";

/** One kind of background work, run by the scheduler in src/jobs under a lease, once across instances. */
export interface JobDefinition {
  /** Unique, stable name, e.g. "checkout.sweep"; also the lease row's key. */
  name: string;
  /** How often the scheduler starts a run. */
  everyMs: number;
  /** How long one run may hold its lease before another instance may take over (default: 5 minutes). */
  leaseMs?: number;
  /** One bounded run. Long work does a chunk, reports progress and returns; the next run continues. */
  run(deps: Deps, ctx: JobContext): Promise<unknown>;
}

export interface JobContext {
  /** Aborted when the process shuts down or the lease is lost: stop at the next chunk boundary. */
  signal: AbortSignal;
  /** Records progress (shown in the admin). */
  progress(done: number, total?: number, note?: string): Promise<void>;
}
