import { z } from "zod";
import { OUTBOX_FILTERS } from "./outbox.service.js";

export const OutboxListQuery = z.object({
  status: z.enum(OUTBOX_FILTERS, { message: `one of ${OUTBOX_FILTERS.join(", ")}` }).optional(),
  cursor: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const OutboxIdParams = z.object({ id: z.string().min(1).max(64) });
export const RetryBody = z.object({ _csrf: z.string().optional() }).strict();
export const ApiRetryBody = z.object({}).strict();
export const UnsubscribeParams = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,64}$/, "the token from the email") });
