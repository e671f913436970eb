import type { Prisma } from "../db/client.js";
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
export async function reserveStockInTx(tx: Tx, lines: HoldLine[]): Promise<Shortfall | null> {
  const taken: HoldLine[] = [];
  for (const line of byVariant(lines)) {
    const ok = await tx.$executeRaw`UPDATE "Variant" SET "reserved" = "reserved" + ${line.quantity} WHERE "id" = ${line.variantId} AND "stock" - "reserved" >= ${line.quantity}`;
    if (ok !== 1) {
      for (const done of taken) {
        await tx.$executeRaw`UPDATE "Variant" SET "reserved" = "reserved" - ${done.quantity} WHERE "id" = ${done.variantId} AND "reserved" >= ${done.quantity}`;
      }
      const fresh = await tx.variant.findUnique({ where: { id: line.variantId }, select: { stock: true, reserved: true } });
      return { variantId: line.variantId, available: fresh ? Math.max(0, fresh.stock - fresh.reserved) : 0 };
    }
    taken.push(line);
  }
  return null;
}

/** Writes the hold rows for units `reserveStockInTx` just reserved. */
export async function recordHoldsInTx(tx: Tx, deps: Deps, input: { lines: HoldLine[]; expiresAt: Date; orderId?: string; liveClaimId?: string }) {
  const now = deps.now();
  const ids: string[] = [];
  for (const line of input.lines) {
    const hold = await tx.stockHold.create({
      data: { variantId: line.variantId, quantity: line.quantity, orderId: input.orderId ?? null, liveClaimId: input.liveClaimId ?? null, createdAt: now, expiresAt: input.expiresAt },
      select: { id: true },
    });
    ids.push(hold.id);
  }
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
export async function consumeOrderHoldsInTx(tx: Tx, deps: Deps, input: { orderId: string }) {
  const holds = await tx.stockHold.findMany({ where: { orderId: input.orderId, status: "active" }, select: { id: true, variantId: true, quantity: true } });
  for (const hold of inLockOrder(holds)) {
    const sold = await tx.$executeRaw`UPDATE "Variant" SET "stock" = "stock" - ${hold.quantity}, "reserved" = "reserved" - ${hold.quantity} WHERE "id" = ${hold.variantId} AND "stock" >= ${hold.quantity} AND "reserved" >= ${hold.quantity}`;
    if (sold !== 1) throw new Error(`Stock invariant broken for variant ${hold.variantId} while paying order ${input.orderId}`);
    const consumed = await tx.stockHold.updateMany({ where: { id: hold.id, status: "active" }, data: { status: "consumed", releasedAt: deps.now() } });
    if (consumed.count !== 1) throw new Error(`Hold ${hold.id} changed while paying order ${input.orderId}`);
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
