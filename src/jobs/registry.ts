import { catalogJobs } from "../catalog/catalog.jobs.js";
import { checkoutJobs } from "../checkout/checkout.jobs.js";
import { analyticsJobs } from "../analytics/analytics.jobs.js";
import type { Deps } from "../deps.js";
import { rateLimitJobs } from "../http/rate-limit.jobs.js";
import { liveJobs } from "../live/live.jobs.js";
import { mailJobs } from "../mail/mail.jobs.js";
import { notificationsJobs } from "../notifications/notifications.jobs.js";
import type { JobDefinition } from "./job.js";
import { createScheduler, type JobScheduler } from "./scheduler.js";

/**
 * Every background job of the shop, in one list. A feature exports
 * `<feature>Jobs(): JobDefinition[]` from `src/<feature>/<feature>.jobs.ts`
 * and is added here; names must be unique (the scheduler refuses duplicates).
 */
export function allJobs(): JobDefinition[] {
  return [...catalogJobs(), ...checkoutJobs(), ...mailJobs(), ...notificationsJobs(), ...rateLimitJobs(), ...liveJobs(), ...analyticsJobs()];
}

/**
 * Starts the scheduler with every job (or the ones given). `npm start` calls
 * it unless JOBS=off; `npm run worker` runs only this. A host app that
 * embeds the storefront calls it once per process:
 *   const jobs = startJobs(shop.bazaarche.deps); … await jobs.stop();
 */
export function startJobs(deps: Deps, options: { jobs?: JobDefinition[]; tickMs?: number; instanceId?: string; keepAlive?: boolean } = {}): JobScheduler {
  return createScheduler(deps, { ...options, jobs: options.jobs ?? allJobs() });
}
