/**
 * Reads for the checkout hot path, through the hot-path reader
 * (src/db/reader.ts): one statement each instead of Prisma's one query per
 * relation, each of which costs more CPU in Prisma's query layer than the SQL
 * itself (npm run bench:checkout). They run before the transaction: what
 * they return is checked again by the transaction's conditional writes
 * (stock, order status), so a change in between cannot oversell or pay twice.
 */
import type { Db } from "../db/client.js";
import { num, sql } from "../db/dialect.js";
import { readerFor } from "../db/reader.js";

export interface CheckoutCartLine {
  variantId: string;
  quantity: number;
  /** Null when the variant is gone. */
  variant: {
    id: string;
    productId: string;
    sku: string;
    option1: string | null;
    option2: string | null;
    option3: string | null;
    priceMinor: number;
    compareAtMinor: number | null;
    currency: string;
    stock: number;
    archived: boolean;
    product: { status: string; title: string; imageKey: string | null };
  } | null;
}

export interface CheckoutCart {
  id: string;
  couponCodes: string;
  /** Unfinished checkouts of this cart (superseded by a new one). */
  pendingOrders: number;
  items: CheckoutCartLine[];
}

interface CartRow {
  cartId: string;
  couponCodes: string;
  pendingOrders: unknown;
  itemVariantId: string | null;
  quantity: unknown;
  id: string | null;
  productId: string;
  sku: string;
  option1: string | null;
  option2: string | null;
  option3: string | null;
  priceMinor: unknown;
  compareAtMinor: unknown;
  currency: string;
  stock: unknown;
  archivedAt: unknown;
  productStatus: string;
  productTitle: string;
  imageKey: string | null;
}

/**
 * The cart with its lines, each line's variant and product as checkout prices
 * them (and the product's first photo, for the payment page), in one
 * statement. Lines in the order they were added (CartItem id).
 */
export async function readCheckoutCart(db: Db, tokenHash: string): Promise<CheckoutCart | null> {
  const rows = await (await readerFor(db)).all<CartRow>(
    sql`SELECT c."id" AS "cartId", c."couponCodes",
            (SELECT count(*) FROM "Order" o WHERE o."cartId" = c."id" AND o."status" = 'pending') AS "pendingOrders",
            i."variantId" AS "itemVariantId", i."quantity",
            v."id", v."productId", v."sku", v."option1", v."option2", v."option3", v."priceMinor", v."compareAtMinor", v."currency", v."stock", v."archivedAt",
            p."status" AS "productStatus", p."title" AS "productTitle",
            (SELECT m."storageKey" FROM "ProductImage" pi JOIN "Media" m ON m."id" = pi."mediaId"
              WHERE pi."productId" = p."id" ORDER BY pi."position", pi."id" LIMIT 1) AS "imageKey"
       FROM "Cart" c
       LEFT JOIN "CartItem" i ON i."cartId" = c."id"
       LEFT JOIN "Variant" v ON v."id" = i."variantId"
       LEFT JOIN "Product" p ON p."id" = v."productId"
      WHERE c."tokenHash" = ${tokenHash}
      ORDER BY i."id"`,
  );
  const first = rows[0];
  if (!first) return null;
  return {
    id: first.cartId,
    couponCodes: first.couponCodes,
    pendingOrders: num(first.pendingOrders),
    items: rows
      .filter((r) => r.itemVariantId !== null)
      .map((r) => ({
        variantId: r.itemVariantId!,
        quantity: num(r.quantity),
        variant:
          r.id === null
            ? null
            : {
                id: r.id,
                productId: r.productId,
                sku: r.sku,
                option1: r.option1,
                option2: r.option2,
                option3: r.option3,
                priceMinor: num(r.priceMinor),
                compareAtMinor: r.compareAtMinor === null ? null : num(r.compareAtMinor),
                currency: r.currency,
                stock: num(r.stock),
                archived: r.archivedAt !== null,
                product: { status: r.productStatus, title: r.productTitle, imageKey: r.imageKey },
              },
      })),
  };
}

export interface PaymentOrder {
  id: string;
  number: number;
  status: string;
  cancelReason: string | null;
  currency: string;
  subtotalMinor: number;
  discountMinor: number;
  taxMinor: number;
  email: string | null;
  customerName: string | null;
  locale: string;
  cartId: string | null;
  couponId: string | null;
  linkId: string | null;
  postId: string | null;
  liveSessionId: string | null;
  channel: string | null;
  /** Coupon uses reserved for the order (they are written only by the checkout that created it). */
  reservedRedemptions: number;
  lines: { variantId: string | null; title: string; variantTitle: string; quantity: number; totalMinor: number }[];
}

interface PaymentRow {
  id: string;
  number: unknown;
  status: string;
  cancelReason: string | null;
  currency: string;
  subtotalMinor: unknown;
  discountMinor: unknown;
  taxMinor: unknown;
  email: string | null;
  customerName: string | null;
  locale: string;
  cartId: string | null;
  couponId: string | null;
  linkId: string | null;
  postId: string | null;
  liveSessionId: string | null;
  channel: string | null;
  reservedRedemptions: unknown;
  lineId: string | null;
  lineVariantId: string | null;
  lineTitle: string;
  lineVariantTitle: string;
  lineQuantity: unknown;
  lineTotalMinor: unknown;
}

/** An order with its lines (in id order) as the payment needs them, in one statement. */
export async function readOrderForPayment(db: Db, orderId: string): Promise<PaymentOrder | null> {
  const rows = await (await readerFor(db)).all<PaymentRow>(
    sql`SELECT o."id", o."number", o."status", o."cancelReason", o."currency", o."subtotalMinor", o."discountMinor", o."taxMinor", o."email", o."customerName",
            o."locale", o."cartId", o."couponId", o."linkId", o."postId", o."liveSessionId", o."channel",
            (SELECT count(*) FROM "Redemption" r WHERE r."orderId" = o."id" AND r."status" = 'reserved') AS "reservedRedemptions",
            l."id" AS "lineId", l."variantId" AS "lineVariantId", l."title" AS "lineTitle", l."variantTitle" AS "lineVariantTitle",
            l."quantity" AS "lineQuantity", l."totalMinor" AS "lineTotalMinor"
       FROM "Order" o LEFT JOIN "OrderLine" l ON l."orderId" = o."id"
      WHERE o."id" = ${orderId}
      ORDER BY l."id"`,
  );
  const o = rows[0];
  if (!o) return null;
  return {
    id: o.id,
    number: num(o.number),
    status: o.status,
    cancelReason: o.cancelReason,
    currency: o.currency,
    subtotalMinor: num(o.subtotalMinor),
    discountMinor: num(o.discountMinor),
    taxMinor: num(o.taxMinor),
    email: o.email,
    customerName: o.customerName,
    locale: o.locale,
    cartId: o.cartId,
    couponId: o.couponId,
    linkId: o.linkId,
    postId: o.postId,
    liveSessionId: o.liveSessionId,
    channel: o.channel,
    reservedRedemptions: num(o.reservedRedemptions),
    lines: rows
      .filter((r) => r.lineId !== null)
      .map((r) => ({ variantId: r.lineVariantId, title: r.lineTitle, variantTitle: r.lineVariantTitle, quantity: num(r.lineQuantity), totalMinor: num(r.lineTotalMinor) })),
  };
}

/** What the Stripe webhook needs to know whether a session is ours; null when there is no such order. */
export async function readOrderRef(db: Db, orderId: string): Promise<{ id: string; paymentRef: string | null; paymentProvider: string; status: string } | null> {
  const [row] = await (await readerFor(db)).all<{ id: string; paymentRef: string | null; paymentProvider: string; status: string }>(
    sql`SELECT o."id", o."paymentRef", o."paymentProvider", o."status" FROM "Order" o WHERE o."id" = ${orderId}`,
  );
  return row ?? null;
}
