import { randomUUID } from "node:crypto";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import { containsText, dialectOf } from "../db/dialect.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { scheduleReviewRequestInTx } from "../reviews/requests.service.js";

type Tx = Prisma.TransactionClient;
export const ORDER_STATUSES = ["pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded"] as const;
const REFUNDABLE = ["paid", "fulfilled", "partially_refunded"];

/**
 * Sets the refunded total and the matching status with a conditional update
 * on the previous total, so a webhook and an admin refund racing each other
 * cannot both apply. Totals only grow: an older, smaller figure is ignored.
 */
export async function applyRefundedTotalInTx(tx: Tx, input: { orderId: string; refundedMinor: number }) {
  const order = await tx.order.findUnique({ where: { id: input.orderId } });
  if (!order || input.refundedMinor <= order.refundedMinor) return false;
  const refundedMinor = Math.min(input.refundedMinor, order.totalMinor);
  const status = refundedMinor >= order.totalMinor ? "refunded" : "partially_refunded";
  const changed = await tx.order.updateMany({ where: { id: order.id, refundedMinor: order.refundedMinor }, data: { refundedMinor, status } });
  return changed.count === 1;
}

/**
 * Refunds all or part of a paid order through its payment provider.
 * `expectedRefundedMinor` is the refunded total the caller saw (the admin
 * form sends it): if another refund landed since, this one is refused, so a
 * double-clicked form whose second post arrives after the first committed
 * cannot refund twice.
 */
export async function refundOrder(deps: Deps, input: { orderId: string; amountMinor: number; reason: string; actor: Actor; expectedRefundedMinor?: number }) {
  const order = await deps.db.order.findUnique({ where: { id: input.orderId } });
  if (!order) throw AppError.notFound("order");
  if (!REFUNDABLE.includes(order.status)) throw AppError.conflict(`Order #${order.number} is ${order.status}; only paid orders can be refunded.`);
  if (input.expectedRefundedMinor !== undefined && input.expectedRefundedMinor !== order.refundedMinor) {
    throw new AppError("refund_changed", 409, `Order #${order.number} was refunded meanwhile (${order.refundedMinor} minor units so far); check the order before refunding again.`, [
      { field: "expectedRefundedMinor", message: `now ${order.refundedMinor}`, refundedMinor: order.refundedMinor },
    ]);
  }
  const refundable = order.totalMinor - order.refundedMinor;
  if (input.amountMinor < 1 || input.amountMinor > refundable) {
    throw AppError.validation(`amount: between 0.01 and the ${refundable} minor units not yet refunded.`, [{ field: "amount", message: `at most ${refundable}` }]);
  }
  if (!order.paymentIntentId) throw AppError.conflict(`Order #${order.number} has no payment to refund.`);
  // Keyed on the refunded total so a double-submitted form refunds once.
  const { refundId } = await deps.payments.refund({
    paymentIntentId: order.paymentIntentId,
    amountMinor: input.amountMinor,
    idempotencyKey: `refund:${order.id}:${order.refundedMinor}:${input.amountMinor}`,
    orderId: order.id,
  });
  return deps.db.$transaction(async (tx) => {
    // The same key gave the same refund id: a concurrent duplicate already recorded it.
    const known = await tx.refund.findUnique({ where: { providerRef: refundId } });
    if (!known) {
      await tx.refund.create({ data: { orderId: order.id, amountMinor: input.amountMinor, providerRef: refundId, reason: input.reason } });
      await applyRefundedTotalInTx(tx, { orderId: order.id, refundedMinor: order.refundedMinor + input.amountMinor });
      await recordAudit(tx, { actor: input.actor, action: "order.refund", entityType: "order", entityId: order.id, rule: input.reason || undefined, details: { amountMinor: input.amountMinor, refundId } });
    }
    return tx.order.findUniqueOrThrow({ where: { id: order.id } });
  });
}

export async function fulfillOrder(deps: Deps, input: { orderId: string; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const changed = await tx.order.updateMany({ where: { id: input.orderId, status: "paid" }, data: { status: "fulfilled", fulfilledAt: deps.now() } });
    const order = await tx.order.findUnique({ where: { id: input.orderId } });
    if (!order) throw AppError.notFound("order");
    if (changed.count !== 1 && order.status !== "fulfilled") throw AppError.conflict(`Order #${order.number} is ${order.status}; only paid orders can be marked fulfilled.`);
    if (changed.count === 1) await recordAudit(tx, { actor: input.actor, action: "order.fulfill", entityType: "order", entityId: order.id });
    if (changed.count === 1) await scheduleReviewRequestInTx(tx, deps, { orderId: order.id, trigger: "fulfilled" });
    return order;
  });
}

export async function listOrders(deps: Deps, input: { status?: string; q?: string; cursor?: string; limit: number }) {
  const q = input.q?.trim().replace(/^#/, "");
  const rows = await deps.db.order.findMany({
    where: {
      ...(input.status ? { status: input.status } : {}),
      ...(q ? { OR: [...(/^\d+$/.test(q) ? [{ number: Number(q) }] : []), { email: containsText(dialectOf(deps.db), q) }, { customerName: containsText(dialectOf(deps.db), q) }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    include: { lines: { select: { quantity: true } } },
  });
  const page = rows.slice(0, input.limit);
  const counts = await deps.db.order.groupBy({ by: ["status"], _count: { _all: true } });
  return {
    items: page.map((o) => ({ ...o, items: o.lines.reduce((n, l) => n + l.quantity, 0) })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]?.id : undefined,
    counts: Object.fromEntries(counts.map((c) => [c.status, c._count._all])) as Record<string, number>,
  };
}

export async function getOrderDetail(deps: Deps, input: { orderId: string }) {
  const order = await deps.db.order.findUnique({
    where: { id: input.orderId },
    include: { lines: { orderBy: { id: "asc" } }, refunds: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] }, link: { select: { code: true } }, post: { select: { id: true, platform: true } }, liveSession: { select: { id: true, title: true, code: true } } },
  });
  if (!order) return null;
  const events = await deps.db.auditLog.findMany({ where: { entityType: "order", entityId: order.id }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  const payments = await deps.db.paymentEvent.findMany({ where: { orderId: order.id }, orderBy: [{ receivedAt: "asc" }, { id: "asc" }] });
  return { ...order, address: order.shippingAddress ? (JSON.parse(order.shippingAddress) as Record<string, unknown>) : null, events, payments };
}

/** A synthetic, unique event id for actions that have no provider event (local payments). */
export function localEventId(kind: string) {
  return `local:${kind}:${randomUUID()}`;
}
