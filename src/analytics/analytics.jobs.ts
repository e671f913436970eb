import type { JobDefinition } from "../jobs/job.js";
import { runRetention, runRollup } from "./rollup.service.js";

/**
 * The analytics background work, for the scheduler in src/jobs:
 * - analytics.rollup: folds closed UTC days into roll-ups (dirty days first),
 *   at most 31 days per run, so a new install back-fills in steps;
 * - analytics.retention: deletes raw events past the retention period (only
 *   of rolled-up days), old visitor-key salts and expired roll-ups.
 * Today's figures never wait for either: the dashboard folds today live.
 */
export function analyticsJobs(): JobDefinition[] {
  return [
    { name: "analytics.rollup", everyMs: 5 * 60_000, leaseMs: 5 * 60_000, run: (deps, ctx) => runRollup(deps, ctx) },
    { name: "analytics.retention", everyMs: 60 * 60_000, leaseMs: 10 * 60_000, run: (deps, ctx) => runRetention(deps, ctx) },
  ];
}
