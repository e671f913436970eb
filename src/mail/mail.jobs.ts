import type { JobDefinition } from "../jobs/job.js";
import { sendDueEmails } from "./outbox.service.js";

/**
 * The outbox sender. Each run sends what is due for up to 20 seconds and
 * returns `more: true` if it had to stop with emails left, so a backlog
 * drains run after run while the lease keeps it to one instance at a time.
 * Without a sender configured a run does nothing.
 */
export const outboxSenderJob: JobDefinition = {
  name: "mail.outbox",
  everyMs: 5_000,
  leaseMs: 2 * 60_000,
  run: (deps, ctx) => sendDueEmails(deps, { signal: ctx.signal, progress: ctx.progress }),
};

export function mailJobs(): JobDefinition[] {
  return [outboxSenderJob];
}
