import type { JobDefinition } from "../jobs/job.js";
import { notifyOwner } from "./notifications.service.js";

/** Owner notifications (new paid orders, reviews to moderate, questions, low stock, the daily digest). */
export const ownerNotificationsJob: JobDefinition = {
  name: "notifications.owner",
  everyMs: 60_000,
  run: (deps) => notifyOwner(deps),
};

export function notificationsJobs(): JobDefinition[] {
  return [ownerNotificationsJob];
}
