import { z } from "zod";
import { patchOf } from "../http/validate.js";
import { FOLLOW_PLATFORMS, VERIFICATIONS } from "../followers/followers.schema.js";

export const COUPON_KINDS = ["percent", "fixed", "free_shipping"] as const;
export const COUPON_SCOPES = ["all", "products", "collections"] as const;
export const REQUIRED_VERIFICATIONS = ["any", "email", "imported", "both"] as const;

/** Codes are compared upper-case without spaces: " followers10 " is FOLLOWERS10. */
export const normalizeCode = (code: string) => code.trim().replace(/\s+/g, "").toUpperCase();

export const CodeBody = z.object({
  code: z
    .string({ message: "Enter a code." })
    .transform(normalizeCode)
    .pipe(z.string().min(3, "Codes have at least 3 characters.").max(40, "Codes have at most 40 characters.").regex(/^[A-Z0-9_-]+$/, "Codes use letters, digits, - and _ only.")),
  _csrf: z.string().optional(),
});

const isoDate = z
  .string()
  .trim()
  .refine((v) => !Number.isNaN(Date.parse(v)), "A date and time like 2026-12-01T09:00:00Z.")
  .transform((v) => new Date(v));

export const CouponInput = z
  .strictObject({
    code: CodeBody.shape.code,
    description: z.string().trim().max(300).default(""),
    kind: z.enum(COUPON_KINDS, { message: `One of ${COUPON_KINDS.join(", ")}.` }),
    percentOff: z.number().int().min(1, "1 to 100.").max(100, "1 to 100.").nullish().transform((v) => v ?? null),
    amountOffMinor: z.number().int().min(1, "At least 1 minor unit.").max(100_000_000).nullish().transform((v) => v ?? null),
    scope: z.enum(COUPON_SCOPES).default("all"),
    productIds: z.array(z.string().min(1).max(64)).max(500).default([]),
    collectionSlugs: z.array(z.string().min(1).max(120)).max(100).default([]),
    minSubtotalMinor: z.number().int().min(0).nullish().transform((v) => v ?? null),
    startsAt: isoDate.nullish().transform((v) => v ?? null),
    endsAt: isoDate.nullish().transform((v) => v ?? null),
    usageLimit: z.number().int().min(1, "At least 1, or leave empty for no limit.").max(10_000_000).nullish().transform((v) => v ?? null),
    perFollowerLimit: z.number().int().min(1).max(1000).default(1),
    minFollowDays: z.number().int().min(0).max(36500).nullish().transform((v) => v ?? null),
    followersOnly: z.boolean().default(false),
    requiredVerification: z.enum(REQUIRED_VERIFICATIONS).default("any"),
    liveSessionId: z.string().min(1).max(64).nullish().transform((v) => v ?? null),
    stackable: z.boolean().default(false),
    status: z.enum(["active", "disabled"]).default("active"),
  })
  .superRefine((c, ctx) => {
    if (c.kind === "percent" && c.percentOff === null) ctx.addIssue({ code: "custom", path: ["percentOff"], message: "A percent coupon needs percentOff (1 to 100)." });
    if (c.kind === "fixed" && c.amountOffMinor === null) ctx.addIssue({ code: "custom", path: ["amountOffMinor"], message: "A fixed coupon needs amountOffMinor." });
    if (c.startsAt && c.endsAt && c.endsAt <= c.startsAt) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "The end must be after the start." });
    if (c.scope === "products" && c.productIds.length === 0) ctx.addIssue({ code: "custom", path: ["productIds"], message: "Choose at least one product, or set scope to all." });
    if (c.scope === "collections" && c.collectionSlugs.length === 0) ctx.addIssue({ code: "custom", path: ["collectionSlugs"], message: "Choose at least one collection, or set scope to all." });
    if (!c.followersOnly && (c.minFollowDays || c.requiredVerification !== "any")) {
      ctx.addIssue({ code: "custom", path: ["followersOnly"], message: "Follow age and verification rules need followersOnly: true." });
    }
  });
export type CouponInputT = z.infer<typeof CouponInput>;

/** PUT /api/v1/coupons/:id: the fields to change; the rest keep their stored values. */
export const CouponEdit = patchOf(CouponInput);

export const IssueCodesInput = z.strictObject({
  platform: z.enum(FOLLOW_PLATFORMS).optional(),
  verification: z.enum(VERIFICATIONS).optional(),
  minFollowDays: z.number().int().min(0).max(36500).optional(),
  followerIds: z.array(z.string().min(1).max(64)).max(10_000).optional(),
  limit: z.number().int().min(1).max(10_000).default(500),
  /** Email each code to followers with a confirmed email. */
  notify: z.boolean().default(true),
});
export type IssueCodesInputT = z.infer<typeof IssueCodesInput>;
