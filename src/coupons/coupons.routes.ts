import { Router, type Request, type Response } from "express";
import { recordEvent } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { findCartByToken } from "../checkout/cart.service.js";
import { CART_COOKIE } from "../checkout/cart.service.js";
import { currentFollower } from "../followers/follower-session.js";
import { AppError } from "../http/errors.js";
import { limiter } from "../http/rate-limit.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { wantsJson } from "../http/wants-json.js";
import { CodeBody } from "./coupons.schema.js";
import { applyCouponToCart, cartFacts, CouponRefused, removeCouponFromCart } from "./coupons.service.js";
import { refusalText } from "./refusal-text.js";
import { renderCartPage } from "../checkout/cart-page.js";

/**
 * POST /cart/coupon and /cart/coupon/remove. Wrong codes are rate limited per
 * visitor address and per follower, counting only refusals, so guessing codes
 * is slow while a shopper fixing a typo is not slowed down.
 */
export function couponCartRoutes(deps: Deps, options: { attemptsPer15Min?: number } = {}) {
  const router = Router();
  const limit = { windowMs: 15 * 60_000, limit: options.attemptsPer15Min ?? 10 };
  const byVisitor = limiter(deps, "coupon-ip", { ...limit, onlyFailures: true }, "Too many wrong codes.");
  // The same count per follower, wherever they shop from.
  const byFollower = limiter(
    deps,
    "coupon-follower",
    { ...limit, onlyFailures: true, key: async (req) => (await currentFollower(deps, req))?.id ?? null },
    "Too many wrong codes for this follower.",
  );

  router.post("/cart/coupon", byVisitor, byFollower, validate({ body: CodeBody }), async (req, res) => {
    const cart = await cartFor(req);
    const follower = await currentFollower(deps, req);
    try {
      const lines = await cartLines(cart);
      const applied = await applyCouponToCart(deps, { cartId: cart.id, code: req.valid.body.code, cart: await cartFacts(deps.db, { currency: deps.shop.currency, lines }), follower });
      recordEvent(deps, { type: "coupon_applied", couponCode: applied.code, valueMinor: applied.discountMinor }, req);
      if (wantsJson(req)) return res.json({ data: applied });
      res.redirect(303, urlFor(req, "/cart"));
    } catch (err) {
      if (!(err instanceof CouponRefused)) throw err;
      // A 4xx, so the limiters count it as a wrong guess.
      res.status(422);
      if (wantsJson(req)) return res.json({ error: { code: err.code, message: err.message, details: err.details } });
      return renderCartPage(deps, req, res, { couponError: refusalText(err.couponCode, err.refusal, res.locals.locale, deps.shop.currency), typedCode: err.couponCode });
    }
  });

  router.post("/cart/coupon/remove", validate({ body: CodeBody }), async (req, res) => {
    const cart = await cartFor(req);
    await removeCouponFromCart(deps, { cartId: cart.id, code: req.valid.body.code });
    if (wantsJson(req)) return res.json({ data: { removed: req.valid.body.code } });
    res.redirect(303, urlFor(req, "/cart"));
  });

  async function cartFor(req: Request) {
    const token = req.cookies?.[CART_COOKIE] as string | undefined;
    const cart = token ? await findCartByToken(deps, token) : null;
    if (!cart || cart.items.length === 0) throw new AppError("cart_empty", 409, "Add something to your cart before entering a code.");
    return cart;
  }

  async function cartLines(cart: NonNullable<Awaited<ReturnType<typeof findCartByToken>>>) {
    const variants = await deps.db.variant.findMany({ where: { id: { in: cart.items.map((i) => i.variantId) } } });
    return cart.items.flatMap((i) => {
      const v = variants.find((x) => x.id === i.variantId);
      return v ? [{ productId: v.productId, totalMinor: v.priceMinor * i.quantity }] : [];
    });
  }

  return router;
}
