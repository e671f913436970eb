import type { JobDefinition } from "../jobs/job.js";
import { sweepExpiredCheckouts } from "./checkout-sweep.js";

/**
 * Holds past their expiry are released (and their orders cancelled) even when
 * no shopper touches those products. Checkout also sweeps the products it is
 * buying, so this only has to catch up.
 */
export const checkoutSweepJob: JobDefinition = {
  name: "checkout.sweep",
  everyMs: 60_000,
  async run(deps) {
    const r = await sweepExpiredCheckouts(deps);
    if (r.paid.length || r.cancelledOrders) deps.logger.info({ paid: r.paid, cancelledOrders: r.cancelledOrders }, "checkout sweep");
    return r;
  },
};

export function checkoutJobs(): JobDefinition[] {
  return [checkoutSweepJob];
}
