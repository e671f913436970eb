import type { Prisma } from "../db/client.js";
import { sql } from "../db/dialect.js";
import { asWriter, newId, type Writer } from "../db/writer.js";

export interface Actor {
  type: "admin" | "api" | "system" | "shopper";
  id?: string | null;
}

/** Appends one audit row inside the caller's transaction, so the record and the change commit together. */
export async function recordAudit(
  tx: Prisma.TransactionClient | Writer,
  input: { actor: Actor; action: string; entityType: string; entityId?: string | null; rule?: string; details?: Record<string, unknown> },
) {
  // Hand SQL in either kind of transaction: the paid webhook writes it through the hot-path writer (src/db/writer.ts).
  await asWriter(tx).run(
    sql`INSERT INTO "AuditLog" ("id", "at", "actorType", "actorId", "action", "entityType", "entityId", "rule", "details")
        VALUES (${newId()}, ${new Date()}, ${input.actor.type}, ${input.actor.id ?? null}, ${input.action}, ${input.entityType}, ${input.entityId ?? null}, ${input.rule ?? null}, ${JSON.stringify(input.details ?? {})})`,
  );
}
