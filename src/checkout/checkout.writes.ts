/**
 * The writes of the checkout hot path (start and pay), one hand-written
 * statement each, run by a Writer (src/db/writer.ts): the hot-path writer,
 * or a Prisma transaction when other work in the same transaction needs
 * Prisma (coupons, live claims, releasing expired holds, reviving a
 * cancelled order, review requests). Every change of state is conditional
 * on the state it expects; the caller checks the row counts.
 */
import { empty, join, num, sql } from "../db/dialect.js";
import { newId, type Writer } from "../db/writer.js";

/** The next order number: 1001 for the first order, then one up, under the counter row's lock. */
export async function nextOrderNumber(w: Writer): Promise<number> {
  const [row] = await w.all<{ value: unknown }>(
    sql`INSERT INTO "Counter" ("name", "value") VALUES ('order', 1001)
        ON CONFLICT ("name") DO UPDATE SET "value" = "Counter"."value" + 1
        RETURNING "value"`,
  );
  return num(row!.value);
}

export interface NewOrder {
  number: number;
  currency: string;
  subtotalMinor: number;
  email: string | null;
  locale: string;
  paymentProvider: string;
  accessKeyHash: string;
  cartId: string;
  createdAt: Date;
  expiresAt: Date;
  linkId: string | null;
  postId: string | null;
  liveSessionId: string | null;
  channel: string | null;
  visitorId: string | null;
}

export interface NewOrderLine {
  variantId: string;
  productId: string;
  title: string;
  variantTitle: string;
  sku: string;
  unitPriceMinor: number;
  quantity: number;
  totalMinor: number;
}

/** A pending order and its lines (one INSERT for all lines); returns the order's id. */
export async function insertPendingOrder(w: Writer, order: NewOrder, lines: NewOrderLine[]): Promise<string> {
  const id = newId();
  await w.run(
    sql`INSERT INTO "Order" ("id", "number", "status", "currency", "subtotalMinor", "discountMinor", "shippingMinor", "taxMinor", "totalMinor",
          "email", "locale", "paymentProvider", "accessKeyHash", "cartId", "createdAt", "expiresAt", "linkId", "postId", "liveSessionId", "channel", "visitorId", "updatedAt")
        VALUES (${id}, ${order.number}, 'pending', ${order.currency}, ${order.subtotalMinor}, 0, 0, 0, ${order.subtotalMinor},
          ${order.email}, ${order.locale}, ${order.paymentProvider}, ${order.accessKeyHash}, ${order.cartId}, ${order.createdAt}, ${order.expiresAt},
          ${order.linkId}, ${order.postId}, ${order.liveSessionId}, ${order.channel}, ${order.visitorId}, ${order.createdAt})`,
  );
  if (lines.length > 0) {
    const rows = lines.map(
      (l) => sql`(${newId()}, ${id}, ${l.variantId}, ${l.productId}, ${l.title}, ${l.variantTitle}, ${l.sku}, ${l.unitPriceMinor}, ${l.quantity}, 0, ${l.totalMinor})`,
    );
    await w.run(
      sql`INSERT INTO "OrderLine" ("id", "orderId", "variantId", "productId", "title", "variantTitle", "sku", "unitPriceMinor", "quantity", "discountMinor", "totalMinor")
          VALUES ${join(rows, ", ")}`,
    );
  }
  return id;
}

/** The provider's checkout reference, once the gateway has answered. */
export function setPaymentRef(w: Writer, input: { orderId: string; ref: string; now: Date }) {
  return w.run(sql`UPDATE "Order" SET "paymentRef" = ${input.ref}, "updatedAt" = ${input.now} WHERE "id" = ${input.orderId}`);
}

/** Whether any of these variants has an active hold past its expiry (which releasing would give back). */
export async function hasExpiredHolds(w: Writer, input: { variantIds: string[]; now: Date }): Promise<boolean> {
  if (input.variantIds.length === 0) return false;
  const rows = await w.all<{ id: string }>(
    sql`SELECT "id" FROM "StockHold" WHERE "variantId" IN (${join(input.variantIds)}) AND "status" = 'active' AND "expiresAt" <= ${input.now} LIMIT 1`,
  );
  return rows.length > 0;
}

/** Written to the ledger; false when the event id was there already (ON CONFLICT DO NOTHING: no read before the insert). */
export async function insertPaymentEvent(w: Writer, event: { id: string; provider: string; type: string; orderId: string | null; receivedAt: Date; outcome: string }) {
  const inserted = await w.run(
    sql`INSERT INTO "PaymentEvent" ("id", "provider", "type", "orderId", "receivedAt", "outcome") VALUES (${event.id}, ${event.provider}, ${event.type}, ${event.orderId}, ${event.receivedAt}, ${event.outcome}) ON CONFLICT ("id") DO NOTHING`,
  );
  return inserted === 1;
}

export interface PaidFields {
  paidAt: Date;
  shippingMinor: number;
  shippingOption: string | null;
  totalMinor: number;
  amountMismatch: boolean;
  email: string | null;
  customerName: string | null;
  shippingAddress: string | null;
  paymentIntentId: string | null;
}

/** pending (or the cancelled order being revived) → paid, only from the status read; true when it changed. */
export async function markPaidIf(w: Writer, input: { orderId: string; fromStatus: string; reviving: boolean; fields: PaidFields }) {
  const f = input.fields;
  const revived = input.reviving ? sql`, "cancelledAt" = NULL, "cancelReason" = NULL` : empty;
  const changed = await w.run(
    sql`UPDATE "Order" SET "status" = 'paid', "paidAt" = ${f.paidAt}, "shippingMinor" = ${f.shippingMinor}, "shippingOption" = ${f.shippingOption},
          "totalMinor" = ${f.totalMinor}, "amountMismatch" = ${f.amountMismatch}, "email" = ${f.email}, "customerName" = ${f.customerName},
          "shippingAddress" = ${f.shippingAddress}, "paymentIntentId" = ${f.paymentIntentId}, "updatedAt" = ${f.paidAt}${revived}
        WHERE "id" = ${input.orderId} AND "status" = ${input.fromStatus}`,
  );
  return changed === 1;
}

/** The cart that was bought: emptied, its coupon codes cleared. */
export async function emptyCart(w: Writer, input: { cartId: string; now: Date }) {
  await w.run(sql`DELETE FROM "CartItem" WHERE "cartId" = ${input.cartId}`);
  await w.run(sql`UPDATE "Cart" SET "couponCodes" = '[]', "updatedAt" = ${input.now} WHERE "id" = ${input.cartId}`);
}
