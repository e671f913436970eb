import type { Deps } from "../deps.js";
import { createScheduler } from "../jobs/scheduler.js";
import { checkoutSweepJob } from "./checkout.jobs.js";
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
 * @deprecated The sweep is the "checkout.sweep" job: run every job with
 * `startJobs(deps)` (or `npm run worker`). Kept for hosts that embedded the
 * storefront and called this; it now runs that one job on the same scheduler,
 * under its lease, so it is safe beside other instances.
 */
export function startCheckoutSweep(deps: Deps, options: { intervalMs?: number } = {}) {
  const scheduler = createScheduler(deps, { jobs: [{ ...checkoutSweepJob, everyMs: options.intervalMs ?? checkoutSweepJob.everyMs }] });
  return {
    /** Runs one pass now; resolves when it is done. */
    async runNow() {
      await scheduler.runNow(checkoutSweepJob.name);
    },
    stop: () => scheduler.stop(),
  };
}
