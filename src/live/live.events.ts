import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";

type Tx = Prisma.TransactionClient;
type Db = Tx | Deps["db"];

/**
 * The live event log. Every change viewers (or the host console) must see is
 * appended here inside the transaction that makes the change; SSE streams on
 * any instance read it after a wake-up from the Broadcaster, and a client
 * that reconnects with Last-Event-ID is replayed from it.
 *
 * Sequence numbers come from `LiveSession.eventSeq`, raised by a conditional
 * UPDATE … RETURNING inside the same transaction: that row lock (PostgreSQL)
 * or the single writer (SQLite) makes seqs commit in order, so a reader that
 * has seen seq n has seen everything before it. Lock order: a transaction
 * that locks a live item or a variant does so before appending here.
 */

/** Events kept per session; older ones are trimmed as new ones arrive. A client further behind gets `reset`. */
export const LIVE_EVENT_KEEP = 500;

export type LiveAudience = "all" | "host";

export interface LiveEventRow {
  seq: number;
  type: string;
  data: string;
  audience: string;
}

export const liveChannel = (sessionId: string) => `live:${sessionId}`;

export async function appendLiveEventInTx(tx: Tx, deps: Deps, input: { sessionId: string; type: string; data: Record<string, unknown>; audience?: LiveAudience }) {
  const rows = await tx.$queryRaw<{ eventSeq: number | bigint }[]>`UPDATE "LiveSession" SET "eventSeq" = "eventSeq" + 1 WHERE "id" = ${input.sessionId} RETURNING "eventSeq"`;
  if (rows.length !== 1) throw new Error(`live session ${input.sessionId} vanished while writing an event`);
  const seq = Number(rows[0]!.eventSeq);
  await tx.liveEvent.create({ data: { liveSessionId: input.sessionId, seq, type: input.type, data: JSON.stringify(input.data), audience: input.audience ?? "all", at: deps.now() } });
  // Bounded: every 50th event trims what is older than the window.
  if (seq % 50 === 0 && seq > LIVE_EVENT_KEEP) {
    await tx.liveEvent.deleteMany({ where: { liveSessionId: input.sessionId, seq: { lte: seq - LIVE_EVENT_KEEP } } });
  }
  return seq;
}

/** Events after `afterSeq`, oldest first (at most `limit`). */
export async function readLiveEvents(db: Db, input: { sessionId: string; afterSeq: number; limit?: number }): Promise<LiveEventRow[]> {
  return db.liveEvent.findMany({
    where: { liveSessionId: input.sessionId, seq: { gt: input.afterSeq } },
    orderBy: { seq: "asc" },
    take: input.limit ?? 200,
    select: { seq: true, type: true, data: true, audience: true },
  });
}

export async function oldestLiveEventSeq(db: Db, sessionId: string): Promise<number | null> {
  const first = await db.liveEvent.findFirst({ where: { liveSessionId: sessionId }, orderBy: { seq: "asc" }, select: { seq: true } });
  return first?.seq ?? null;
}

/** Tells every instance's streams of the session to read the log (after the writing transaction committed). */
export async function wakeLiveStreams(deps: Deps, sessionId: string) {
  try {
    await deps.broadcaster.publish(liveChannel(sessionId), { type: "wake" });
  } catch (err) {
    // The change is committed and in the log; streams catch up at the next wake-up or reconnect.
    deps.logger.warn({ err, sessionId }, "live: could not publish a wake-up");
  }
}
