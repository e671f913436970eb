import type { Prisma } from "../db/client.js";

/**
 * Queues an email in the outbox inside the caller's transaction. The dedupe
 * key makes "send the confirmation once" hold however often the caller runs
 * (webhook redeliveries, reconcile): a second queue with the same key is a no-op.
 */
export async function queueEmail(
  tx: Prisma.TransactionClient,
  input: { to: string; subject: string; text: string; template: string; dedupeKey: string; sendAfter?: Date },
) {
  return tx.outboxEmail.upsert({
    where: { dedupeKey: input.dedupeKey },
    // sendAfter: a sender must leave the email alone until then (review requests wait N days).
    create: { dedupeKey: input.dedupeKey, to: input.to, subject: input.subject, text: input.text, template: input.template, sendAfter: input.sendAfter ?? null },
    update: {},
  });
}
