import { z } from "zod";
import { parseDayKey } from "./days.js";

/** Ranges the dashboard offers; "custom" takes from/to. */
export const RANGE_PRESETS = ["today", "7d", "30d", "custom"] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

/** The `by` values of /api/v1/analytics/sales, and the admin pages' object kinds. */
export const SALES_BY = ["channel", "platform", "post", "link", "live", "host", "product", "coupon"] as const;
export type SalesBy = (typeof SALES_BY)[number];
export const OBJECT_KINDS = ["post", "link", "live", "product", "coupon"] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

const day = (field: string) =>
  z
    .string()
    .refine((v) => parseDayKey(v) !== null, `${field}: a calendar date as YYYY-MM-DD (UTC), e.g. 2026-11-01`)
    .transform((v) => parseDayKey(v)!);

/** Query strings naming a range: `range=today|7d|30d`, or `from`/`to` (then range is custom). Other keys pass (utm, lang). */
export const RangeQuery = z.object({
  range: z.enum(RANGE_PRESETS, { message: `range: one of ${RANGE_PRESETS.join(", ")}` }).optional(),
  from: day("from").optional(),
  to: day("to").optional(),
});
export type RangeQueryT = z.infer<typeof RangeQuery>;

export const SalesQuery = RangeQuery.extend({
  by: z.enum(SALES_BY, { message: `by: one of ${SALES_BY.join(", ")}` }),
});

export const ObjectParams = z.object({
  kind: z.enum(OBJECT_KINDS, { message: `kind: one of ${OBJECT_KINDS.join(", ")}` }),
  id: z.string().trim().min(1, "id: required").max(100, "id: at most 100 characters"),
});

/** The dashboard's tables, each downloadable as CSV. */
export const TABLES = ["summary", "revenue", "channel", "platform", "post", "link", "live", "host", "product", "coupon", "followers", "reviews", "questions"] as const;
export type TableName = (typeof TABLES)[number];
export const CsvParams = z.object({ table: z.enum(TABLES, { message: `table: one of ${TABLES.join(", ")}` }) });

export const ONBOARDING_TICKS = ["feed_google", "feed_meta", "feed_pinterest", "feed_tiktok", "bio_link", "dismissed"] as const;
export const OnboardingTickBody = z.strictObject({
  item: z.enum(ONBOARDING_TICKS, { message: `item: one of ${ONBOARDING_TICKS.join(", ")}` }),
  done: z.enum(["1", "0"]).default("1"),
  _csrf: z.string().optional(),
});
