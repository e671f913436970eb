import type { Prisma } from "../db/client.js";
import { join, num, sql } from "../db/dialect.js";
import { asWriter, newId, type Writer } from "../db/writer.js";
import type { Deps } from "../deps.js";

/**
 * Stock holds: the one mechanism that sets units aside for a shopper, used by
 * checkout (a pending order) and by live shopping (a claim). See README.md
 * beside this file for the states and the invariant.
 *
 * Invariant: `Variant.reserved` equals the sum of the quantities of the
 * variant's `active` holds. Every function here changes a hold's status and
 * `reserved` together, inside the caller's transaction, with conditional
 * updates, so no interleaving of requests can break it.
 */

type Tx = Prisma.TransactionClient;

export interface HoldLine {
  variantId: string;
  quantity: number;
}

/** The variant that could not be covered, and how many units it had left. */
export interface Shortfall {
  variantId: string;
  available: number;
}

/** Lines merged per variant and sorted by variant id: the fixed lock order. */
function byVariant(lines: HoldLine[]): HoldLine[] {
  const merged = new Map<string, number>();
  for (const l of lines) merged.set(l.variantId, (merged.get(l.variantId) ?? 0) + l.quantity);
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([variantId, quantity]) => ({ variantId, quantity }));
}

/**
 * Raises `reserved` for every line, all or nothing. One conditional UPDATE
 * per variant — it succeeds only while `stock - reserved` covers the units —
 * and the variants are updated in id order, so two transactions that hold
 * overlapping variants lock them in the same order and cannot deadlock on
 * PostgreSQL. On a shortfall the units already reserved in this call are
 * given back, so the caller may carry on in the same transaction (a sold-out
 * claim still writes its waitlist entry).
 */
export async function reserveStockInTx(tx: Tx | Writer, lines: HoldLine[]): Promise<Shortfall | null> {
  const w = asWriter(tx);
  const taken: HoldLine[] = [];
  for (const line of byVariant(lines)) {
    const ok = await w.run(sql`UPDATE "Variant" SET "reserved" = "reserved" + ${line.quantity} WHERE "id" = ${line.variantId} AND "stock" - "reserved" >= ${line.quantity}`);
    if (ok !== 1) {
      for (const done of taken) {
        await w.run(sql`UPDATE "Variant" SET "reserved" = "reserved" - ${done.quantity} WHERE "id" = ${done.variantId} AND "reserved" >= ${done.quantity}`);
      }
      const [fresh] = await w.all<{ stock: unknown; reserved: unknown }>(sql`SELECT "stock", "reserved" FROM "Variant" WHERE "id" = ${line.variantId}`);
      return { variantId: line.variantId, available: fresh ? Math.max(0, num(fresh.stock) - num(fresh.reserved)) : 0 };
    }
    taken.push(line);
  }
  return null;
}

/** Writes the hold rows for units `reserveStockInTx` just reserved: one INSERT for all of them. */
export async function recordHoldsInTx(tx: Tx | Writer, deps: Pick<Deps, "now">, input: { lines: HoldLine[]; expiresAt: Date; orderId?: string; liveClaimId?: string }) {
  if (input.lines.length === 0) return [];
  const now = deps.now();
  const ids = input.lines.map(() => newId());
  const rows = input.lines.map((line, i) => sql`(${ids[i]}, ${line.variantId}, ${line.quantity}, 'active', ${input.orderId ?? null}, ${input.liveClaimId ?? null}, ${now}, ${input.expiresAt})`);
  await asWriter(tx).run(sql`INSERT INTO "StockHold" ("id", "variantId", "quantity", "status", "orderId", "liveClaimId", "createdAt", "expiresAt") VALUES ${join(rows, ", ")}`);
  return ids;
}

/** Reserves and records in one step: `{ ok: false, shortfall }` leaves nothing reserved. */
export async function holdStockInTx(tx: Tx, deps: Deps, input: { lines: HoldLine[]; expiresAt: Date; orderId?: string; liveClaimId?: string }) {
  const shortfall = await reserveStockInTx(tx, input.lines);
  if (shortfall) return { ok: false as const, shortfall };
  return { ok: true as const, holdIds: await recordHoldsInTx(tx, deps, input) };
}

/**
 * An order takes over holds it did not take itself (a live claim's): the
 * units stay reserved throughout — no second hold, no moment when they are
 * free — and the hold now lasts as long as the order's checkout. True only
 * if every hold was still active, unexpired and not already in an order.
 */
export async function adoptHoldsInTx(tx: Tx, deps: Deps, input: { holdIds: string[]; orderId: string; expiresAt: Date }) {
  if (input.holdIds.length === 0) return true;
  const adopted = await tx.stockHold.updateMany({
    where: { id: { in: input.holdIds }, status: "active", orderId: null, expiresAt: { gt: deps.now() } },
    data: { orderId: input.orderId, expiresAt: input.expiresAt },
  });
  return adopted.count === input.holdIds.length;
}

/** Releases one active hold: its status and `reserved` change together, once. */
async function releaseOne(tx: Tx, deps: Deps, hold: { id: string; variantId: string; quantity: number }) {
  const released = await tx.stockHold.updateMany({ where: { id: hold.id, status: "active" }, data: { status: "released", releasedAt: deps.now() } });
  if (released.count !== 1) return false;
  await tx.$executeRaw`UPDATE "Variant" SET "reserved" = "reserved" - ${hold.quantity} WHERE "id" = ${hold.variantId} AND "reserved" >= ${hold.quantity}`;
  return true;
}

const inLockOrder = <T extends { variantId: string; id: string }>(holds: T[]) =>
  [...holds].sort((a, b) => (a.variantId < b.variantId ? -1 : a.variantId > b.variantId ? 1 : a.id < b.id ? -1 : 1));

/** Gives the units of these holds back (already released or consumed ones are left alone). */
export async function releaseHoldsInTx(tx: Tx, deps: Deps, input: { holdIds: string[] }) {
  if (input.holdIds.length === 0) return 0;
  const holds = await tx.stockHold.findMany({ where: { id: { in: input.holdIds }, status: "active" }, select: { id: true, variantId: true, quantity: true } });
  let n = 0;
  for (const hold of inLockOrder(holds)) if (await releaseOne(tx, deps, hold)) n += 1;
  return n;
}

/**
 * The order will not be paid (cancelled, superseded, expired). Its own holds
 * are released. A hold it took over from a live claim goes back to that
 * claim if the claim's own time is still running — the shopper who backed
 * out of the payment page keeps the unit until then — and is released
 * otherwise.
 */
export async function releaseOrderHoldsInTx(tx: Tx, deps: Deps, input: { orderId: string }) {
  const now = deps.now();
  const holds = await tx.stockHold.findMany({
    where: { orderId: input.orderId, status: "active" },
    select: { id: true, variantId: true, quantity: true, liveClaim: { select: { expiresAt: true } } },
  });
  for (const hold of inLockOrder(holds)) {
    if (hold.liveClaim && hold.liveClaim.expiresAt > now) {
      await tx.stockHold.updateMany({ where: { id: hold.id, status: "active", orderId: input.orderId }, data: { orderId: null, expiresAt: hold.liveClaim.expiresAt } });
    } else {
      await releaseOne(tx, deps, hold);
    }
  }
}

/**
 * The order is paid: its held units leave stock and the reservation together
 * and the holds become `consumed`. Throws if the invariant is found broken,
 * which rolls the payment back rather than selling stock that is not there.
 */
export async function consumeOrderHoldsInTx(tx: Tx | Writer, deps: Pick<Deps, "now">, input: { orderId: string }) {
  const w = asWriter(tx);
  // One statement turns every active hold of the order into `consumed` and
  // says which they were; the variants are then updated in the fixed lock order.
  const holds = await w.all<{ id: string; variantId: string; quantity: unknown }>(sql`
    UPDATE "StockHold" SET "status" = 'consumed', "releasedAt" = ${deps.now()}
     WHERE "orderId" = ${input.orderId} AND "status" = 'active'
    RETURNING "id", "variantId", "quantity"`);
  for (const line of byVariant(holds.map((h) => ({ variantId: h.variantId, quantity: num(h.quantity) })))) {
    const sold = await w.run(sql`UPDATE "Variant" SET "stock" = "stock" - ${line.quantity}, "reserved" = "reserved" - ${line.quantity} WHERE "id" = ${line.variantId} AND "stock" >= ${line.quantity} AND "reserved" >= ${line.quantity}`);
    if (sold !== 1) throw new Error(`Stock invariant broken for variant ${line.variantId} while paying order ${input.orderId}`);
  }
  return holds.length;
}

/**
 * Holds past their expiry. Those that belong to no order (live claims) are
 * released here; the ids of orders with an expired hold are returned, for
 * checkout to cancel (which releases their holds). Runs lazily before stock
 * is taken, so an expired hold never blocks a shopper, and from the sweep.
 */
export async function expireHoldsInTx(tx: Tx, deps: Deps, scope: { variantIds?: string[] } = {}) {
  const expired = await tx.stockHold.findMany({
    where: { status: "active", expiresAt: { lte: deps.now() }, ...(scope.variantIds ? { variantId: { in: scope.variantIds } } : {}) },
    select: { id: true, orderId: true, variantId: true, quantity: true, liveClaimId: true },
  });
  const orderIds = [...new Set(expired.map((h) => h.orderId).filter((id): id is string => !!id))].sort();
  const released: string[] = [];
  for (const hold of inLockOrder(expired.filter((h) => !h.orderId))) if (await releaseOne(tx, deps, hold)) released.push(hold.id);
  return { orderIds, releasedHoldIds: released };
}

/** Units of each variant in active, unexpired holds: what "available" subtracts from stock. */
export async function heldQuantities(db: Tx | Deps["db"], now: Date, variantIds: string[]): Promise<Map<string, number>> {
  if (variantIds.length === 0) return new Map();
  const rows = await db.stockHold.groupBy({
    by: ["variantId"],
    where: { variantId: { in: variantIds }, status: "active", expiresAt: { gt: now } },
    _sum: { quantity: true },
  });
  return new Map(rows.map((r) => [r.variantId, r._sum.quantity ?? 0]));
}
