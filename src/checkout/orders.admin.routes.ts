import { Router, type Request, type Response } from "express";
import { countryName } from "../i18n/countries.js";
import { shippingLabel, type ShippingOption } from "../payments/gateway.js";
import { z } from "zod";
import { minorToDecimal, parseMoney } from "../catalog/money.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { formatDigits, formatMoney } from "../i18n/format.js";
import { cancelOrder } from "./checkout.service.js";
import { AdminActionForm, AdminOrderQuery, AdminOrdersQuery, AdminRefundForm, OrderIdParams } from "./orders.schema.js";
import { fulfillOrder, getOrderDetail, listOrders, ORDER_STATUSES, refundOrder } from "./orders.service.js";

const PAGE_SIZE = 50;
const REFUNDABLE = new Set(["paid", "fulfilled", "partially_refunded"]);
// Audit actions with a message of their own; anything newer shows its raw name.
const KNOWN_REASONS = new Set(["admin_cancelled", "shopper_cancelled", "expired", "superseded", "payment_provider_error", "payment_failed", "refund_needed"]);
const KNOWN_EVENTS = new Set(["order.paid", "order.cancel", "order.fulfill", "order.refund", "order.amount_mismatch", "order.paid_after_cancel"]);

type Detail = NonNullable<Awaited<ReturnType<typeof getOrderDetail>>>;
interface PageState {
  error?: string;
  done?: string;
  values?: { amount?: string; reason?: string };
}

/** /admin/orders: list with status tabs and search, order detail, fulfil, cancel, refund. */
export function ordersAdminRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });
  const detailUrl = (req: Request, id: string, done: string) => `${urlFor(req, `/admin/orders/${id}`)}?done=${done}`;

  router.get("/", validate({ query: AdminOrdersQuery }), async (req, res) => {
    const { q, status, cursor } = req.valid.query as z.infer<typeof AdminOrdersQuery>;
    const list = await listOrders(deps, { q, status, cursor, limit: PAGE_SIZE });
    res.render("admin/orders", {
      layout: "admin",
      nav: "orders",
      title: res.locals.t("orders.title"),
      q: q ?? "",
      status: status ?? "",
      cursor,
      statuses: ORDER_STATUSES.map((s) => ({ value: s, count: list.counts[s] ?? 0, current: s === status })),
      total: Object.values(list.counts).reduce((a, b) => a + b, 0),
      orders: list.items,
      nextCursor: list.nextCursor,
    });
  });

  router.get("/:id", validate({ params: OrderIdParams, query: AdminOrderQuery }), async (req, res) => {
    await renderOrder(res, req.valid.params.id, { done: (req.valid.query as z.infer<typeof AdminOrderQuery>).done });
  });

  router.post("/:id/fulfill", validate({ params: OrderIdParams, body: AdminActionForm }), async (req, res) => {
    const id = req.valid.params.id as string;
    try {
      await fulfillOrder(deps, { orderId: id, actor: actor(res) });
    } catch (err) {
      return renderRefusal(res, id, err);
    }
    res.redirect(303, detailUrl(req, id, "fulfilled"));
  });

  router.post("/:id/cancel", validate({ params: OrderIdParams, body: AdminActionForm }), async (req, res) => {
    const id = req.valid.params.id as string;
    const order = await deps.db.order.findUnique({ where: { id }, select: { status: true } });
    if (!order) throw AppError.notFound("order");
    // cancelOrder is a conditional no-op for anything but a pending order; say why instead.
    if (!(await cancelOrder(deps, { orderId: id, reason: "admin_cancelled", actor: actor(res) }))) {
      return renderOrder(res.status(409), id, { error: res.locals.t("orders.cancel.refused", { status: res.locals.t(`orders.status.${order.status}`) }) });
    }
    res.redirect(303, detailUrl(req, id, "cancelled"));
  });

  router.post("/:id/refund", validate({ params: OrderIdParams }), async (req, res) => {
    const id = req.valid.params.id as string;
    const parsed = AdminRefundForm.safeParse(req.body ?? {});
    const typed = { amount: typeof req.body?.amount === "string" ? req.body.amount : "", reason: typeof req.body?.reason === "string" ? req.body.reason : "" };
    if (!parsed.success) return renderOrder(res.status(400), id, { error: parsed.error.issues.map((i) => i.message).join(" "), values: typed });
    const amount = parseMoney(parsed.data.amount, deps.shop.currency);
    if (!amount.ok) return renderOrder(res.status(400), id, { error: res.locals.t("orders.refund.badAmount", { amount: parsed.data.amount, currency: deps.shop.currency }), values: typed });
    if (amount.minor < 1) return renderOrder(res.status(400), id, { error: res.locals.t("orders.refund.zero"), values: typed });
    try {
      await refundOrder(deps, { orderId: id, amountMinor: amount.minor, reason: parsed.data.reason, expectedRefundedMinor: parsed.data.refunded, actor: actor(res) });
    } catch (err) {
      return renderRefusal(res, id, err, typed);
    }
    res.redirect(303, detailUrl(req, id, "refunded"));
  });

  /** A refusal from a service (4xx) re-renders the order with the reason; anything else is a real error. */
  async function renderRefusal(res: Response, id: string, err: unknown, values?: PageState["values"]) {
    if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
    const order = await deps.db.order.findUnique({ where: { id }, select: { totalMinor: true, refundedMinor: true, currency: true, status: true } });
    if (!order) throw err;
    const t = res.locals.t as (key: string, vars?: Record<string, unknown>) => string;
    const locale = res.locals.locale;
    // The services speak English to the API; the admin page says the same thing in the admin's language.
    const overRefund = err.code === "validation_failed" && Array.isArray(err.details) && err.details.some((d: { field?: string }) => d.field === "amount");
    const message = overRefund
      ? t("orders.refund.tooMuch", { max: formatMoney(order.totalMinor - order.refundedMinor, order.currency, locale) })
      : err.code === "refund_changed"
        ? t("orders.refund.changed", { refunded: formatMoney(order.refundedMinor, order.currency, locale) })
        : err.code === "refund_in_progress"
        ? t("orders.refund.inProgress")
        : err.status === 409
        ? t("orders.action.refused", { status: t(`orders.status.${order.status}`) })
        : err.message;
    await renderOrder(res.status(err.status), id, { error: message, values });
  }

  async function renderOrder(res: Response, id: string, state: PageState) {
    const order = await getOrderDetail(deps, { orderId: id });
    if (!order) throw AppError.notFound("order");
    res.set("Cache-Control", "no-store");
    res.render("admin/order", { layout: "admin", nav: "orders", title: res.locals.t("orders.order", { number: formatDigits(order.number, res.locals.locale) }), ...orderPage(res, order, deps.checkout.shippingOptions), ...state });
  }

  return router;
}

/** What the detail page shows, worked out here so the template only lays it out. */
function orderPage(res: Response, order: Detail, shippingOptions: ShippingOption[]) {
  const t = res.locals.t as (key: string, vars?: Record<string, unknown>) => string;
  const locale = res.locals.locale;
  const money = (minor: number) => formatMoney(minor, order.currency, locale);
  const details = (raw: string) => {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const mismatch = order.events.find((e) => e.action === "order.amount_mismatch");
  const lateCharge = order.events.find((e) => e.action === "order.paid_after_cancel");
  const refundable = order.totalMinor - order.refundedMinor;
  const address = order.address
    ? [order.address.line1, order.address.line2, [order.address.postal_code, order.address.city].filter(Boolean).join(" "), order.address.state, order.address.country].filter((x) => typeof x === "string" && x.trim() !== "")
    : [];
  return {
    order,
    address: address.map((line) => (line === order.address?.country && typeof line === "string" && /^[A-Z]{2}$/.test(line) ? countryName(line, locale) : line)),
    // The shipping option's label, not its id ("standard").
    shippingLabel: (() => {
      const option = shippingOptions.find((o) => o.id === order.shippingOption);
      return option ? shippingLabel(option, locale) : order.shippingOption;
    })(),
    events: order.events.map((e) => {
      const d = details(e.details);
      return {
        at: e.at,
        actor: t(`orders.actor.${e.actorType}`),
        action: KNOWN_EVENTS.has(e.action) ? t(`orders.event.${e.action}`) : e.action,
        // A cancellation's reason is a code; a refund's is what the admin typed.
        note: [e.rule ? t("orders.event.reason", { reason: KNOWN_REASONS.has(e.rule) ? t(`orders.reason.${e.rule}`) : e.rule }) : "", typeof d.amountMinor === "number" ? money(d.amountMinor) : ""].filter(Boolean).join(" · "),
      };
    }),
    payments: order.payments,
    mismatch: order.amountMismatch && mismatch ? { charged: money(Number(details(mismatch.details).charged)), computed: money(Number(details(mismatch.details).computed)) } : order.amountMismatch ? { charged: "?", computed: money(order.totalMinor) } : null,
    lateCharge: lateCharge ? { paymentIntentId: String(details(lateCharge.details).paymentIntentId ?? "") } : null,
    can: {
      fulfill: order.status === "paid",
      cancel: order.status === "pending",
      refund: REFUNDABLE.has(order.status) && refundable > 0 && !!order.paymentIntentId,
    },
    refundable,
    refundDefault: minorToDecimal(refundable, order.currency),
    hasAttribution: !!(order.link || order.post || order.liveSession || order.channel),
  };
}
