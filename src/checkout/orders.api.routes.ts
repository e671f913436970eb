import { Router, type Response } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { formatFeedPrice } from "../i18n/format.js";
import { cancelOrder } from "./checkout.service.js";
import { ApiCancelBody, ApiFulfillBody, ApiOrdersQuery, ApiRefundBody, OrderIdParams } from "./orders.schema.js";
import { fulfillOrder, getOrderDetail, listOrders, refundOrder } from "./orders.service.js";

type Listed = Awaited<ReturnType<typeof listOrders>>["items"][number];
type Detail = NonNullable<Awaited<ReturnType<typeof getOrderDetail>>>;

/** /api/v1/orders (JSON, Bearer token): list, detail, fulfil, refund, cancel. */
export function ordersApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });
  const detail = async (id: string) => {
    const order = await getOrderDetail(deps, { orderId: id });
    if (!order) throw AppError.notFound("order");
    return toApiDetail(order);
  };

  router.get("/orders", validate({ query: ApiOrdersQuery }), async (req, res) => {
    const list = await listOrders(deps, req.valid.query);
    res.json({ data: list.items.map(toApiSummary), nextCursor: list.nextCursor ?? null, counts: list.counts });
  });

  router.get("/orders/:id", validate({ params: OrderIdParams }), async (req, res) => {
    res.json({ data: await detail(req.valid.params.id) });
  });

  router.post("/orders/:id/fulfill", validate({ params: OrderIdParams, body: ApiFulfillBody }), async (req, res) => {
    await fulfillOrder(deps, { orderId: req.valid.params.id, actor: actor(res) });
    res.json({ data: await detail(req.valid.params.id) });
  });

  router.post("/orders/:id/refund", validate({ params: OrderIdParams, body: ApiRefundBody }), async (req, res) => {
    const { amountMinor, reason, expectedRefundedMinor } = req.valid.body as ApiRefundBody;
    try {
      await refundOrder(deps, { orderId: req.valid.params.id, amountMinor, reason, expectedRefundedMinor, actor: actor(res) });
    } catch (err) {
      throw await inApiTerms(deps, req.valid.params.id, err);
    }
    res.json({ data: await detail(req.valid.params.id) });
  });

  router.post("/orders/:id/cancel", validate({ params: OrderIdParams, body: ApiCancelBody }), async (req, res) => {
    const order = await deps.db.order.findUnique({ where: { id: req.valid.params.id }, select: { id: true, number: true, status: true } });
    if (!order) throw AppError.notFound("order");
    // cancelOrder is a conditional no-op for anything but a pending order; a client needs to know it did nothing.
    if (!(await cancelOrder(deps, { orderId: order.id, reason: req.valid.body.reason, actor: actor(res) }))) {
      const now = await deps.db.order.findUniqueOrThrow({ where: { id: order.id }, select: { status: true } });
      throw AppError.conflict(`Order #${order.number} is ${now.status}; only pending orders can be cancelled (refund a paid one instead).`);
    }
    res.json({ data: await detail(order.id) });
  });

  return router;
}

/** The refund service names its amount field "amount"; the API's field is amountMinor, so say it that way. */
async function inApiTerms(deps: Deps, orderId: string, err: unknown) {
  if (!(err instanceof AppError) || err.code !== "validation_failed") return err;
  const order = await deps.db.order.findUnique({ where: { id: orderId }, select: { number: true, totalMinor: true, refundedMinor: true, currency: true } });
  if (!order) return err;
  const left = order.totalMinor - order.refundedMinor;
  return AppError.validation(`amountMinor: at most ${left} (${formatFeedPrice(left, order.currency)}) is left to refund on order #${order.number}.`, [
    { field: "amountMinor", message: `at most ${left}`, refundableMinor: left },
  ]);
}

const summaryFields = (o: Omit<Listed, "items" | "lines">) => ({
  id: o.id,
  number: o.number,
  status: o.status,
  currency: o.currency,
  subtotalMinor: o.subtotalMinor,
  discountMinor: o.discountMinor,
  shippingMinor: o.shippingMinor,
  taxMinor: o.taxMinor,
  totalMinor: o.totalMinor,
  refundedMinor: o.refundedMinor,
  email: o.email,
  customerName: o.customerName,
  paymentProvider: o.paymentProvider,
  amountMismatch: o.amountMismatch,
  createdAt: o.createdAt,
  paidAt: o.paidAt,
  fulfilledAt: o.fulfilledAt,
  cancelledAt: o.cancelledAt,
});

// Explicit fields: the access-key hash, cart and visitor ids never leave the server.
function toApiSummary(o: Listed) {
  return { ...summaryFields(o), items: o.items };
}

function toApiDetail(o: Detail) {
  const parse = (raw: string) => {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  return {
    ...summaryFields(o),
    locale: o.locale,
    shippingOption: o.shippingOption,
    shippingAddress: o.address,
    paymentRef: o.paymentRef,
    paymentIntentId: o.paymentIntentId,
    expiresAt: o.expiresAt,
    lines: o.lines.map((l) => ({ variantId: l.variantId, productId: l.productId, title: l.title, variantTitle: l.variantTitle, sku: l.sku, unitPriceMinor: l.unitPriceMinor, quantity: l.quantity, discountMinor: l.discountMinor, totalMinor: l.totalMinor })),
    attribution: {
      linkCode: o.link?.code ?? null,
      post: o.post ? { id: o.post.id, platform: o.post.platform } : null,
      liveSession: o.liveSession ? { id: o.liveSession.id, title: o.liveSession.title, code: o.liveSession.code } : null,
      channel: o.channel,
    },
    refunds: o.refunds.map((r) => ({ id: r.id, amountMinor: r.amountMinor, providerRef: r.providerRef, reason: r.reason, createdAt: r.createdAt })),
    events: o.events.map((e) => ({ at: e.at, actorType: e.actorType, actorId: e.actorId, action: e.action, rule: e.rule, details: parse(e.details) })),
    paymentEvents: o.payments.map((p) => ({ id: p.id, type: p.type, provider: p.provider, outcome: p.outcome, receivedAt: p.receivedAt })),
  };
}
