import type { JobDefinition } from "../jobs/job.js";
import { settleLiveClaims } from "./claims.service.js";
import { announceEndedFlashDeals, queueLiveReminders } from "./live.service.js";

/**
 * Background work of live shows. None of it is needed for correctness —
 * expired holds are released and waitlists served before every claim of the
 * item, flash prices end by the clock — it makes things happen on time when
 * nobody is claiming: the next person on a waitlist gets their offer (and
 * email), open pages hear that a flash deal ended, reminders go out when a
 * show starts.
 */
export function liveJobs(): JobDefinition[] {
  return [
    {
      name: "live.settle-claims",
      everyMs: 5_000,
      leaseMs: 60_000,
      async run(deps, ctx) {
        const r = await settleLiveClaims(deps, { limit: 200 });
        await ctx.progress(r.items, r.items, `${r.expired} claims expired, ${r.offers} waitlist offers`);
        return r;
      },
    },
    {
      name: "live.flash-ends",
      everyMs: 2_000,
      leaseMs: 60_000,
      async run(deps, ctx) {
        const n = await announceEndedFlashDeals(deps);
        await ctx.progress(n, n, `${n} flash deals ended`);
        return n;
      },
    },
    {
      name: "live.reminders",
      everyMs: 10_000,
      async run(deps, ctx) {
        // One chunk of 200 per run; the next run continues with the rest.
        const n = await queueLiveReminders(deps, { chunk: 200, signal: ctx.signal, maxChunks: 1 });
        await ctx.progress(n, undefined, `${n} reminder emails queued`);
        return n;
      },
    },
  ];
}
