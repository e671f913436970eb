import type { Request, Response } from "express";
import { cartFacts, priceCartCoupons } from "../coupons/coupons.service.js";
import { refusalText } from "../coupons/refusal-text.js";
import type { Deps } from "../deps.js";
import { currentFollower } from "../followers/follower-session.js";
import { wantsJson } from "../http/wants-json.js";
import { CART_COOKIE, findCartByToken, getCartView } from "./cart.service.js";

/**
 * The cart page (or its JSON): lines priced now, the codes applied with what
 * each takes off (or why it no longer applies), and who the shopper is as a
 * follower. Shared by the cart, checkout and coupon routes so a refusal is
 * always shown on the same page.
 */
export async function renderCartPage(deps: Deps, req: Request, res: Response, extra: Record<string, unknown> = {}) {
  const token = req.cookies?.[CART_COOKIE] as string | undefined;
  const cart = await getCartView(deps, { token, locale: res.locals.locale });
  const follower = await currentFollower(deps, req);
  const stored = token ? await findCartByToken(deps, token) : null;
  const codes = stored ? (JSON.parse(stored.couponCodes) as string[]) : [];
  const coupons =
    codes.length > 0 && cart.lines.length > 0
      ? await priceCartCoupons(deps, {
          codes,
          cart: await cartFacts(deps.db, { currency: cart.currency, lines: cart.lines.map((l) => ({ productId: l.productId, totalMinor: l.totalMinor })) }),
          follower,
        })
      : { applied: [], discountMinor: 0, freeShipping: false, allValid: true };
  const view = {
    ...cart,
    coupons: coupons.applied.map((c) => ({ ...c, refusalText: c.refusal ? refusalText(c.code, c.refusal, res.locals.locale, deps.shop.currency) : null })),
    discountMinor: coupons.discountMinor,
    freeShipping: coupons.freeShipping,
    totalBeforeShippingMinor: cart.subtotalMinor - coupons.discountMinor,
    canCheckout: cart.canCheckout && coupons.allValid,
  };
  if (wantsJson(req)) return res.json({ data: view, ...extra });
  res.render("checkout/cart", {
    title: res.locals.t("cart.title"),
    cart: view,
    follower,
    shippingOptions: deps.checkout.shippingOptions,
    ...extra,
  });
}
