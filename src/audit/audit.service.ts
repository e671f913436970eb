import type { Prisma } from "../db/client.js";

export interface Actor {
  type: "admin" | "api" | "system" | "shopper";
  id?: string | null;
}

/** Appends one audit row inside the caller's transaction, so the record and the change commit together. */
export async function recordAudit(
  tx: Prisma.TransactionClient,
  input: { actor: Actor; action: string; entityType: string; entityId?: string | null; rule?: string; details?: Record<string, unknown> },
) {
  await tx.auditLog.create({
    data: {
      actorType: input.actor.type,
      actorId: input.actor.id ?? null,
      action: input.action,
      entityType: input.entityType,
      entityId: input.entityId ?? null,
      rule: input.rule ?? null,
      details: JSON.stringify(input.details ?? {}),
    },
  });
}
