import { randomUUID } from "node:crypto";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import { containsText, dialectOf } from "../db/dialect.js";
import type { Deps } from "../deps.js";
import { recordEventInTx as recordAnalyticsEventInTx } from "../analytics/events.js";
import { AppError } from "../http/errors.js";
import { scheduleReviewRequestInTx } from "../reviews/requests.service.js";
import { recordEventInTx } from "./checkout.service.js";

type Tx = Prisma.TransactionClient;
export const ORDER_STATUSES = ["pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded"] as const;
const REFUNDABLE = ["paid", "fulfilled", "partially_refunded"];

/**
 * Sets the refunded total and the matching status in one conditional
 * statement: totals only grow, so an older, smaller figure (a webhook that
 * arrives after the admin's own refund, or out of order) changes nothing, and
 * two writers racing cannot lower it. A cancelled order that was paid anyway
 * (flagged for a refund) records the money going back and stays cancelled.
 */
export async function applyRefundedTotalInTx(tx: Tx, input: { orderId: string; refundedMinor: number }, deps: Pick<Deps, "now">) {
  // Compare-and-set on the stored total, re-read when another writer moved it
  // first: the total only goes up, and the refund event carries exactly the
  // amount this write added (the dashboard counts refunds from these events,
  // since a refund made in Stripe's dashboard leaves no Refund row).
  for (let attempt = 0; attempt < 5; attempt++) {
    const order = await tx.order.findUnique({ where: { id: input.orderId } });
    if (!order) return false;
    // A cancelled order never took in the payment (shipping included): the
    // provider's figure is the truth. A paid one's total is fixed.
    const cancelled = order.status === "cancelled";
    const refundedMinor = cancelled ? input.refundedMinor : Math.min(input.refundedMinor, order.totalMinor);
    if (refundedMinor <= order.refundedMinor) return false;
    const data = cancelled ? { refundedMinor } : { refundedMinor, status: refundedMinor >= order.totalMinor ? "refunded" : "partially_refunded" };
    const changed = await tx.order.updateMany({
      where: { id: order.id, refundedMinor: order.refundedMinor, status: cancelled ? "cancelled" : { in: [...REFUNDABLE, "refunded"] } },
      data,
    });
    if (changed.count === 1) {
      await recordAnalyticsEventInTx(tx, deps, { type: "refund", orderId: order.id, valueMinor: refundedMinor - order.refundedMinor, couponId: order.couponId, linkId: order.linkId, postId: order.postId, liveSessionId: order.liveSessionId, channel: order.channel });
      return true;
    }
  }
  return false;
}

/**
 * A refund reported by the provider (Stripe's charge.refunded, which carries
 * the charge's running refunded total): the ledger row and the new total in
 * one transaction. Only for an order whose payment we have seen; the caller
 * answers 409 before that, so the provider delivers it again later.
 */
export async function recordProviderRefund(deps: Deps, input: { eventId: string; eventType: string; orderId: string; refundedMinor: number }) {
  return deps.db.$transaction(async (tx) => {
    if (!(await recordEventInTx(tx, deps, { id: input.eventId, type: input.eventType, orderId: input.orderId }))) return "duplicate_event" as const;
    await applyRefundedTotalInTx(tx, { orderId: input.orderId, refundedMinor: input.refundedMinor }, deps);
    return "refund_recorded" as const;
  });
}

/** A refund claim left behind by a process that died before the provider answered stops blocking after this long. */
const STALE_CLAIM_MS = 10 * 60_000;

/**
 * Claims "the refund made on top of refunded total X" for this order with
 * one insert relying on the unique claimKey: of two overlapping requests that
 * saw the same total, exactly one gets the claim. The claim row is the
 * pending Refund; it gets its provider id when the provider answers.
 */
async function claimRefund(deps: Deps, input: { orderId: string; refundedMinor: number; amountMinor: number; reason: string }) {
  const claimKey = `${input.orderId}:${input.refundedMinor}`;
  const id = randomUUID();
  const insert = () =>
    deps.db.$executeRaw`INSERT INTO "Refund" ("id", "orderId", "amountMinor", "reason", "createdAt", "claimKey") VALUES (${id}, ${input.orderId}, ${input.amountMinor}, ${input.reason}, ${deps.now()}, ${claimKey}) ON CONFLICT ("claimKey") DO NOTHING`;
  if ((await insert()) === 1) return id;
  // Taken. A claim whose provider call never came back (the process died)
  // is released after a while, conditionally, so it cannot block for ever.
  const stale = await deps.db.refund.deleteMany({ where: { claimKey, providerRef: null, createdAt: { lt: new Date(deps.now().getTime() - STALE_CLAIM_MS) } } });
  if (stale.count === 1 && (await insert()) === 1) return id;
  return null;
}

/**
 * Refunds all or part of a paid order through its payment provider, once.
 * `expectedRefundedMinor` is the refunded total the caller saw (the admin
 * form sends it): if another refund landed since, this one is refused. Two
 * requests that overlap (a double click, a retried API call) race for one
 * claim (claimRefund); the loser is refused with 409 before it reaches the
 * provider, so neither a second refund nor a 500 can come of it.
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
  const claimId = await claimRefund(deps, { orderId: order.id, refundedMinor: order.refundedMinor, amountMinor: input.amountMinor, reason: input.reason });
  if (!claimId) {
    throw new AppError("refund_in_progress", 409, `Another refund of order #${order.number} is being made right now; nothing more was refunded. Check the order before refunding again.`, [
      { field: "expectedRefundedMinor", message: "another refund is in progress", refundedMinor: order.refundedMinor },
    ]);
  }
  let refundId: string;
  try {
    // Keyed on the refunded total, like the claim: a retry after a failure asks for the same refund.
    ({ refundId } = await deps.payments.refund({
      paymentIntentId: order.paymentIntentId,
      amountMinor: input.amountMinor,
      idempotencyKey: `refund:${order.id}:${order.refundedMinor}:${input.amountMinor}`,
      orderId: order.id,
    }));
  } catch (err) {
    await deps.db.refund.deleteMany({ where: { id: claimId, providerRef: null } });
    deps.logger.error({ err, orderId: order.id }, "payment provider refused the refund");
    throw new AppError("payment_unavailable", 502, "The payment provider did not complete the refund; nothing was recorded. Try again in a minute (a retry cannot refund twice).");
  }
  return deps.db.$transaction(async (tx) => {
    await tx.refund.update({ where: { id: claimId }, data: { providerRef: refundId } });
    await applyRefundedTotalInTx(tx, { orderId: order.id, refundedMinor: order.refundedMinor + input.amountMinor }, deps);
    await recordAudit(tx, { actor: input.actor, action: "order.refund", entityType: "order", entityId: order.id, rule: input.reason || undefined, details: { amountMinor: input.amountMinor, refundId } });
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
