import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { recordEvent } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { cookieOptions } from "../http/cookies.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { countryOptions, isCountryCode } from "../i18n/countries.js";
import { errorText } from "../i18n/error-text.js";
import { formatDigits } from "../i18n/format.js";
import type { Locale } from "../i18n/translate.js";
import { shippingLabel } from "../payments/gateway.js";
import type { ShopProfile } from "../shop/shop.schema.js";
import { wantsJson } from "../http/wants-json.js";
import { AddToCartBody, CartItemParams, CheckoutBody, OrderKeyQuery, OrderParams, UpdateCartItemBody } from "./cart.schema.js";
import { currentFollower } from "../followers/follower-session.js";
import { renderCartPage } from "./cart-page.js";
import { addToCart, CART_COOKIE, removeFromCart, setCartQuantity } from "./cart.service.js";
import { cancelOrder, getOrderForShopper, markOrderPaid, startCheckout, type Attribution } from "./checkout.service.js";

const CART_DAYS = 30;
/** The only place other than the cart that backing out of a payment may return to: a live show. */
const LIVE_BACK = /^\/live\/[a-z0-9-]{3,40}$/;

/** The country <select>: the shop's selling countries first, then every other country, all named in the page's language. */
function countryChoices(locale: Locale, first: readonly string[], chosen: string) {
  const all = countryOptions(locale);
  const top = first.flatMap((c) => all.filter((o) => o.code === c));
  const rest = all.filter((o) => !first.includes(o.code));
  const mark = (list: typeof all) => list.map((c) => ({ ...c, selected: c.code === chosen }));
  return { top: mark(top), rest: mark(rest) };
}

const PayParams = z.object({ ref: z.string().regex(/^loc_[A-Za-z0-9_-]{10,64}$/, "Not a payment page address.") });
const PayBody = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("pay"),
    email: z.string().trim().pipe(z.email({ message: "Enter the email for the receipt." })),
    name: z.string().trim().min(1, "Enter the name to ship to.").max(120),
    line1: z.string().trim().min(1, "Enter the street address.").max(200),
    city: z.string().trim().min(1, "Enter the city.").max(100),
    postalCode: z.string().trim().max(20).default(""),
    country: z.string().trim().transform((c) => c.toUpperCase()).refine(isCountryCode, "Choose your country from the list."),
    shipping: z.string().min(1, "Choose a shipping option."),
    _csrf: z.string().optional(),
  }),
  z.object({ action: z.literal("fail"), _csrf: z.string().optional() }),
  z.object({ action: z.literal("cancel"), _csrf: z.string().optional() }),
]);

/** Cart, checkout start/cancel, order confirmation, and the local payment page. */
export function checkoutRoutes(deps: Deps, options: { attribution?: (req: Request) => Promise<Attribution | null> } = {}) {
  const router = Router();
  const cartToken = (req: Request) => req.cookies?.[CART_COOKIE] as string | undefined;
  const setCartCookie = (req: Request, res: Response, token: string) =>
    res.cookie(CART_COOKIE, token, cookieOptions(req, { maxAge: CART_DAYS * 24 * 3600 * 1000 }));

  const renderCart = (req: Request, res: Response, extra: Record<string, unknown> = {}) => renderCartPage(deps, req, res, extra);

  /** Shopper-fixable refusals (sold out, too many) come back on the cart page. */
  const onCartError = async (req: Request, res: Response, err: unknown) => {
    if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req)) throw err;
    res.status(err.status);
    await renderCart(req, res, { error: errorText(err, res.locals.locale as Locale).text });
  };

  router.get("/cart", async (req, res) => {
    res.set("Cache-Control", "no-store");
    await renderCart(req, res, { cancelled: req.query.cancelled === "1" });
  });

  router.post("/cart/items", validate({ body: AddToCartBody }), async (req, res) => {
    try {
      const { token, created } = await addToCart(deps, { token: cartToken(req), variantId: req.valid.body.variantId, quantity: req.valid.body.quantity });
      if (created) setCartCookie(req, res, token);
      recordEvent(deps, { type: "add_to_cart", variantId: req.valid.body.variantId, meta: { quantity: req.valid.body.quantity } }, req);
      req.cookies[CART_COOKIE] = token;
      if (wantsJson(req)) return renderCart(req, res);
      res.redirect(303, urlFor(req, "/cart"));
    } catch (err) {
      await onCartError(req, res, err);
    }
  });

  router.post("/cart/items/:variantId", validate({ params: CartItemParams, body: UpdateCartItemBody }), async (req, res) => {
    try {
      await setCartQuantity(deps, { token: cartToken(req), variantId: req.valid.params.variantId, quantity: req.valid.body.quantity });
      if (wantsJson(req)) return renderCart(req, res);
      res.redirect(303, urlFor(req, "/cart"));
    } catch (err) {
      await onCartError(req, res, err);
    }
  });

  router.post("/cart/items/:variantId/remove", validate({ params: CartItemParams }), async (req, res) => {
    await removeFromCart(deps, { token: cartToken(req), variantId: req.valid.params.variantId });
    if (wantsJson(req)) return renderCart(req, res);
    res.redirect(303, urlFor(req, "/cart"));
  });

  router.post("/checkout", validate({ body: CheckoutBody }), async (req, res) => {
    try {
      const started = await startCheckout(deps, {
        cartToken: cartToken(req),
        email: req.valid.body.email,
        locale: res.locals.locale,
        returnBase: res.locals.publicBase as string,
        attribution: options.attribution ? await options.attribution(req) : null,
        follower: await currentFollower(deps, req),
      });
      if (wantsJson(req)) return res.status(201).json({ data: { orderId: started.orderId, orderNumber: started.orderNumber, url: started.url } });
      res.redirect(303, started.url);
    } catch (err) {
      await onCartError(req, res, err);
    }
  });

  // Stripe (or the local page) sends the shopper here when they back out.
  // A live claim's checkout goes back to its live page; nothing else can be named here (no open redirect).
  const CancelQuery = OrderKeyQuery.extend({ back: z.string().regex(LIVE_BACK).optional().catch(undefined) });
  router.get("/checkout/cancel/:id", validate({ params: OrderParams, query: CancelQuery }), async (req, res) => {
    const order = await getOrderForShopper(deps, { orderId: req.valid.params.id, key: req.valid.query.key });
    const cancelled = await cancelOrder(deps, { orderId: order.id, reason: "shopper_cancelled", actor: { type: "shopper" } });
    // Too late to back out (paid in another tab): show the order, not a "cancelled" cart.
    if (!cancelled && order.status !== "pending" && order.status !== "cancelled") {
      return res.redirect(303, `${urlFor(req, `/orders/${order.id}`)}?key=${encodeURIComponent(req.valid.query.key)}`);
    }
    res.redirect(303, req.valid.query.back ? `${urlFor(req, req.valid.query.back)}?cancelled=1` : `${urlFor(req, "/cart")}?cancelled=1`);
  });

  router.get("/orders/:id", validate({ params: OrderParams, query: OrderKeyQuery }), async (req, res) => {
    const order = await getOrderForShopper(deps, { orderId: req.valid.params.id, key: req.valid.query.key });
    res.set("Cache-Control", "no-store");
    res.set("Referrer-Policy", "no-referrer");
    if (wantsJson(req)) return res.json({ data: { id: order.id, number: order.number, status: order.status, totalMinor: order.totalMinor, currency: order.currency } });
    res.render("checkout/order", { title: res.locals.t("order.title", { number: formatDigits(order.number, res.locals.locale) }), order, address: order.shippingAddress ? JSON.parse(order.shippingAddress) : null });
  });

  const payableOrder = async (req: Request) => {
    const { ref } = req.valid.params as z.infer<typeof PayParams>;
    const key = (req.valid.query as { key: string }).key;
    if (deps.payments.provider !== "local") throw AppError.notFound("payment page");
    const found = await deps.db.order.findUnique({ where: { paymentRef: ref }, select: { id: true } });
    if (!found) throw AppError.notFound("payment page");
    return { order: await getOrderForShopper(deps, { orderId: found.id, key }), key, ref };
  };

  /** Shipping as offered for this order: free when a free-shipping code was reserved on it. */
  const shippingFor = async (orderId: string) => {
    const free = await deps.db.redemption.count({ where: { orderId, status: { in: ["reserved", "committed"] }, coupon: { kind: "free_shipping" } } });
    return free > 0 ? deps.checkout.shippingOptions.map((o) => ({ ...o, amountMinor: 0 })) : deps.checkout.shippingOptions;
  };

  const renderPay = async (res: Response, order: Awaited<ReturnType<typeof getOrderForShopper>>, key: string, extra: { values?: Record<string, unknown>; errors?: string[]; declined?: boolean } = {}) => {
    const locale = res.locals.locale as Locale;
    const profile = res.locals.shopProfile as ShopProfile | undefined;
    const chosen = typeof extra.values?.country === "string" ? extra.values.country.toUpperCase() : (profile?.countries[0] ?? "US");
    const chosenShipping = typeof extra.values?.shipping === "string" ? extra.values.shipping : null;
    const options = await shippingFor(order.id);
    res.render("checkout/pay", {
      title: res.locals.t("pay.title"),
      order,
      key,
      // Names in the page's language; the countries the shop sells to first.
      countries: countryChoices(locale, profile?.countries ?? [], chosen),
      shippingOptions: options.map((o, i) => ({
        ...o,
        label: shippingLabel(o, locale),
        checked: chosenShipping ? o.id === chosenShipping : i === 0,
        total: order.subtotalMinor - order.discountMinor + o.amountMinor,
      })),
      ...extra,
    });
  };

  router.get("/pay/:ref", validate({ params: PayParams, query: OrderKeyQuery }), async (req, res) => {
    const { order, key } = await payableOrder(req);
    res.set("Cache-Control", "no-store");
    res.set("Referrer-Policy", "no-referrer");
    await renderPay(res, order, key);
  });

  router.post("/pay/:ref", validate({ params: PayParams, query: OrderKeyQuery }), async (req, res) => {
    const { order, key, ref } = await payableOrder(req);
    const parsed = PayBody.safeParse(req.body);
    if (!parsed.success) {
      // Each problem in the page's language, once per field.
      const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "form")))];
      const known = new Set(["email", "name", "line1", "city", "postalCode", "country", "shipping"]);
      return renderPay(res.status(400), order, key, { errors: fields.map((f) => res.locals.t(`pay.error.${known.has(f) ? f : "form"}`)), values: req.body });
    }
    const body = parsed.data;
    const back = `?key=${encodeURIComponent(key)}`;
    const returnTo = typeof req.query.back === "string" && LIVE_BACK.test(req.query.back) ? `&back=${encodeURIComponent(req.query.back)}` : "";
    if (body.action === "cancel") return res.redirect(303, urlFor(req, `/checkout/cancel/${order.id}${back}${returnTo}`));
    if (body.action === "fail") {
      return renderPay(res.status(402), order, key, { declined: true });
    }
    if (order.status !== "pending") return res.redirect(303, urlFor(req, `/orders/${order.id}${back}`));
    const option = (await shippingFor(order.id)).find((o) => o.id === body.shipping);
    if (!option) return renderPay(res.status(400), order, key, { errors: [res.locals.t("pay.error.shipping")], values: req.body });
    await markOrderPaid(deps, {
      orderId: order.id,
      eventId: `local:${ref}:paid`,
      eventType: "local.paid",
      outcome: {
        ref,
        orderId: order.id,
        status: "complete",
        paid: true,
        amountTotalMinor: order.subtotalMinor - order.discountMinor + option.amountMinor + order.taxMinor,
        currency: order.currency,
        paymentIntentId: `local_pi_${ref.slice(4)}`,
        email: body.email,
        name: body.name,
        address: { line1: body.line1, city: body.city, postal_code: body.postalCode, country: body.country },
        shippingMinor: option.amountMinor,
      },
    });
    res.redirect(303, urlFor(req, `/orders/${order.id}${back}`));
  });

  return router;
}
