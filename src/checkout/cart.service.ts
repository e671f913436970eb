import { createHash, randomBytes } from "node:crypto";
import { getHeldQuantities, variantLabel } from "../catalog/catalog.service.js";
import { offerFor } from "../catalog/offer.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";

const hash = (token: string) => createHash("sha256").update(token).digest("hex");
export const CART_COOKIE = "bz_cart";
export const MAX_CART_LINES = 50;

export async function findCartByToken(deps: Deps, token: string) {
  return deps.db.cart.findUnique({ where: { tokenHash: hash(token) }, include: { items: { orderBy: { id: "asc" } } } });
}

/** Returns the visitor's cart, creating one (and its cookie token) when needed. */
async function ensureCart(deps: Deps, token: string | undefined) {
  if (token) {
    const cart = await findCartByToken(deps, token);
    if (cart) return { cart, token, created: false };
  }
  const fresh = randomBytes(24).toString("base64url");
  const cart = await deps.db.cart.create({ data: { tokenHash: hash(fresh), currency: deps.shop.currency }, include: { items: true } });
  return { cart, token: fresh, created: true };
}

/**
 * A new cart with items (and codes) already in it; returns the cookie token.
 * For carts built outside a browser session (a live claim, a shared cart link).
 */
export async function createCartWithItems(deps: Deps, input: { items: { variantId: string; quantity: number }[]; couponCodes?: string[] }) {
  const token = randomBytes(24).toString("base64url");
  await deps.db.cart.create({
    data: { tokenHash: hash(token), currency: deps.shop.currency, couponCodes: JSON.stringify(input.couponCodes ?? []), items: { create: input.items } },
  });
  return token;
}

/** Units a shopper may put in the cart now: stock minus unexpired holds. */
async function availableFor(deps: Deps, variantId: string) {
  const variant = await deps.db.variant.findUnique({ where: { id: variantId }, include: { product: { select: { status: true, title: true } } } });
  if (!variant || variant.archivedAt || variant.product.status !== "active") {
    throw AppError.validation("variantId: this product or option is not for sale.", [{ field: "variantId", message: "unknown or not for sale" }]);
  }
  const held = await getHeldQuantities(deps, [variantId]);
  return { variant, available: offerFor(variant, held.get(variantId)).available };
}

/** Adds units (to what is already in the cart), refusing more than can be bought. */
export async function addToCart(deps: Deps, input: { token: string | undefined; variantId: string; quantity: number }) {
  const { variant, available } = await availableFor(deps, input.variantId);
  const { cart, token, created } = await ensureCart(deps, input.token);
  const existing = cart.items.find((i) => i.variantId === input.variantId);
  const wanted = (existing?.quantity ?? 0) + input.quantity;
  if (wanted > available) {
    throw new AppError(
      "insufficient_stock",
      409,
      available === 0 ? `"${variant.product.title}" is sold out.` : `Only ${available} of "${variant.product.title}" available${existing ? ` (you already have ${existing.quantity} in your cart)` : ""}.`,
      [{ field: "quantity", message: `at most ${available}`, available, title: variant.product.title, inCart: existing?.quantity ?? 0 }],
    );
  }
  if (!existing && cart.items.length >= MAX_CART_LINES) throw new AppError("cart_full", 400, `A cart holds at most ${MAX_CART_LINES} different items.`, [{ field: "variantId", message: "cart full" }]);
  await deps.db.cartItem.upsert({
    where: { cartId_variantId: { cartId: cart.id, variantId: input.variantId } },
    create: { cartId: cart.id, variantId: input.variantId, quantity: input.quantity },
    update: { quantity: wanted },
  });
  return { token, created };
}

export async function setCartQuantity(deps: Deps, input: { token: string | undefined; variantId: string; quantity: number }) {
  const cart = input.token ? await findCartByToken(deps, input.token) : null;
  const item = cart?.items.find((i) => i.variantId === input.variantId);
  if (!cart || !item) throw AppError.notFound("cart item");
  const { variant, available } = await availableFor(deps, input.variantId);
  if (input.quantity > available) {
    throw new AppError("insufficient_stock", 409, available === 0 ? `"${variant.product.title}" is sold out.` : `Only ${available} of "${variant.product.title}" available.`, [{ field: "quantity", message: `at most ${available}`, available, title: variant.product.title, inCart: item.quantity }]);
  }
  await deps.db.cartItem.update({ where: { id: item.id }, data: { quantity: input.quantity } });
}

export async function removeFromCart(deps: Deps, input: { token: string | undefined; variantId: string }) {
  const cart = input.token ? await findCartByToken(deps, input.token) : null;
  if (!cart) return;
  await deps.db.cartItem.deleteMany({ where: { cartId: cart.id, variantId: input.variantId } });
}

/**
 * The cart as the shopper sees it, priced from the catalog right now (the
 * same offerFor the product page and feeds use). Lines that can no longer be
 * bought in full are flagged, not silently changed.
 */
export async function getCartView(deps: Deps, input: { token: string | undefined; locale: string }) {
  const cart = input.token ? await findCartByToken(deps, input.token) : null;
  if (!cart || cart.items.length === 0) return { id: cart?.id ?? null, lines: [], count: 0, subtotalMinor: 0, currency: deps.shop.currency, canCheckout: false };
  const variants = await deps.db.variant.findMany({
    where: { id: { in: cart.items.map((i) => i.variantId) } },
    include: {
      product: {
        include: {
          translations: { where: { locale: input.locale } },
          images: { orderBy: [{ position: "asc" }, { id: "asc" }], take: 1, include: { media: true } },
        },
      },
    },
  });
  const held = await getHeldQuantities(deps, variants.map((v) => v.id));
  const lines = cart.items.flatMap((item) => {
    const v = variants.find((x) => x.id === item.variantId);
    if (!v) return [];
    const offer = offerFor(v, held.get(v.id));
    const forSale = !v.archivedAt && v.product.status === "active";
    return [
      {
        variantId: v.id,
        productId: v.productId,
        slug: v.product.slug,
        title: v.product.translations[0]?.title || v.product.title,
        variantTitle: variantLabel(v),
        sku: v.sku,
        image: v.product.images[0] ? { storageKey: v.product.images[0].media.storageKey, alt: v.product.images[0].alt || v.product.title } : null,
        quantity: item.quantity,
        unitPriceMinor: offer.priceMinor,
        totalMinor: offer.priceMinor * item.quantity,
        currency: offer.currency,
        available: offer.available,
        problem: !forSale ? "unavailable" : offer.available === 0 ? "sold_out" : offer.available < item.quantity ? "too_many" : null,
      },
    ];
  });
  return {
    id: cart.id,
    lines,
    count: lines.reduce((n, l) => n + l.quantity, 0),
    subtotalMinor: lines.reduce((n, l) => n + l.totalMinor, 0),
    currency: deps.shop.currency,
    canCheckout: lines.length > 0 && lines.every((l) => !l.problem),
  };
}

/** Item count for the header's mini-cart: one indexed query. */
export async function countCartItems(deps: Deps, token: string | undefined) {
  if (!token) return 0;
  const cart = await deps.db.cart.findUnique({ where: { tokenHash: hash(token) }, select: { items: { select: { quantity: true } } } });
  return cart?.items.reduce((n, i) => n + i.quantity, 0) ?? 0;
}
