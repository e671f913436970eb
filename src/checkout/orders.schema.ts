import { z } from "zod";
import { ORDER_STATUSES } from "./orders.service.js";

export const OrderIdParams = z.object({ id: z.string().min(1).max(64) });

/** Admin list: a stale or hand-edited status tab falls back to "all" instead of an error page. */
export const AdminOrdersQuery = z.object({
  q: z.string().trim().max(100).optional(),
  status: z.enum(ORDER_STATUSES).optional().catch(undefined),
  cursor: z.string().max(64).optional(),
  done: z.enum(["fulfilled", "cancelled", "refunded"]).optional().catch(undefined),
  lang: z.enum(["en", "fa"]).optional(),
});

export const AdminOrderQuery = AdminOrdersQuery.pick({ done: true, lang: true });

/** Admin forms: unknown fields are refused so a typo never silently does nothing. */
export const AdminActionForm = z.strictObject({ _csrf: z.string().optional() });

export const AdminRefundForm = z.strictObject({
  // A decimal as typed ("12.50"); parsed with parseMoney in the shop's currency.
  amount: z.string({ message: "Enter the amount to refund, e.g. 12.50." }).trim().min(1, "Enter the amount to refund, e.g. 12.50.").max(20),
  reason: z.string().trim().max(200, "At most 200 characters.").default(""),
  // The refunded total the page showed: a second click after the first refund committed is refused.
  refunded: z.coerce.number().int().min(0),
  _csrf: z.string().optional(),
});

/** API list: a wrong status is the client's mistake, so it is a 400 that names the choices. */
export const ApiOrdersQuery = z.strictObject({
  q: z.string().trim().max(100).optional(),
  status: z.enum(ORDER_STATUSES, { message: `One of ${ORDER_STATUSES.join(", ")}.` }).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int("A whole number from 1 to 100.").min(1, "A whole number from 1 to 100.").max(100, "A whole number from 1 to 100.").default(50),
});

export const ApiFulfillBody = z.strictObject({});

export const ApiCancelBody = z.strictObject({
  reason: z.string().trim().min(1).max(200).default("admin_cancelled"),
});

export const ApiRefundBody = z.strictObject({
  amountMinor: z
    .number({ message: "A whole number of minor units (cents), e.g. 1250 for 12.50." })
    .int("A whole number of minor units (cents), e.g. 1250 for 12.50.")
    .positive("More than 0."),
  reason: z.string().trim().max(200, "At most 200 characters.").default(""),
  /** Optional guard: the refundedMinor the client last saw; a refund that landed since makes this a 409. */
  expectedRefundedMinor: z.number({ message: "A whole number of minor units." }).int("A whole number of minor units.").min(0).optional(),
});

export type ApiRefundBody = z.infer<typeof ApiRefundBody>;
