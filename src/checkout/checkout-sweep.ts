import type { Deps } from "../deps.js";
import type { JobDefinition } from "../jobs/job.js";
import { reconcilePendingOrders, releaseExpiredHolds } from "./checkout.service.js";

/**
 * One pass over checkouts whose hold has run out. First asks the provider
 * about them (reconcile): a payment that went through while its webhook was
 * delayed — the server was restarting, say — is settled as paid instead of
 * being cancelled under the shopper. Then every hold still past its expiry is
 * released and its pending order cancelled. A provider outage must not keep
 * stock locked, so a failed reconcile is logged and the release still runs.
 */
export async function sweepExpiredCheckouts(deps: Deps) {
  let reconciled: Awaited<ReturnType<typeof reconcilePendingOrders>> | null = null;
  try {
    reconciled = await reconcilePendingOrders(deps, { olderThanMinutes: deps.checkout.holdMinutes });
  } catch (err) {
    deps.logger.error({ err }, "checkout sweep: could not reconcile expired checkouts with the payment provider");
  }
  const cancelled = await releaseExpiredHolds(deps);
  return { paid: reconciled?.paid ?? [], cancelledOrders: cancelled };
}

/**
 * Runs the sweep on a timer. The timer is unref'd (it never keeps the process
 * alive), a pass never overlaps the previous one, and errors are logged, never
 * thrown: a sweep that fails (database locked, disk full) tries again next time.
 * `stop()` clears the timer and waits for a pass in flight, so shutdown can
 * close the database after it.
 */
export function startCheckoutSweep(deps: Deps, options: { intervalMs?: number; alsoRun?: JobDefinition[] } = {}) {
  let running: Promise<void> | null = null;
  const abort = new AbortController();
  // Until the job scheduler (src/jobs) runs them, other features' jobs ride on this timer, in order, after the sweep.
  const extra = async () => {
    for (const job of options.alsoRun ?? []) {
      await job.run(deps, { signal: abort.signal, progress: async () => undefined }).catch((err: unknown) => deps.logger.error({ err, job: job.name }, "job failed; retrying at the next interval"));
    }
  };
  const pass = () => {
    if (running) return;
    running = sweepExpiredCheckouts(deps)
      .then((r) => {
        if (r.paid.length || r.cancelledOrders) deps.logger.info({ paid: r.paid, cancelledOrders: r.cancelledOrders }, "checkout sweep");
      })
      .then(extra)
      .catch((err: unknown) => deps.logger.error({ err }, "checkout sweep failed; retrying at the next interval"))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(pass, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    timer,
    /** Runs one pass now (tests, start-up); resolves when it is done. */
    async runNow() {
      pass();
      await running;
    },
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
