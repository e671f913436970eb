import { z } from "zod";

/** Platforms a shop has followers on (the same list posts use). */
export const FOLLOW_PLATFORMS = ["instagram", "tiktok", "facebook", "pinterest", "youtube", "x", "telegram", "whatsapp", "other"] as const;
export const VERIFICATIONS = ["email", "imported", "both"] as const;

const handle = z
  .string()
  .trim()
  .transform((h) => h.replace(/^@+/, ""))
  .pipe(z.string().min(1, "Enter your handle, e.g. @sara.makes.").max(60, "At most 60 characters.").regex(/^[\p{L}\p{N}._-]+$/u, "Letters, digits, dots, dashes and underscores only."));

export const FollowBody = z.object({
  platform: z.enum(FOLLOW_PLATFORMS, { message: "Choose the platform you follow us on." }),
  handle,
  email: z.string().trim().max(200).pipe(z.email({ message: "Enter the email we should send the confirmation to." })),
  consent: z.literal("on", { message: "Tick the box to agree to receive follower offers by email." }),
  _csrf: z.string().optional(),
});
export type FollowInput = z.infer<typeof FollowBody>;

export const SignInBody = z.object({
  email: z.string().trim().max(200).pipe(z.email({ message: "Enter the email you confirmed your follow with." })),
  _csrf: z.string().optional(),
});

export const TokenQuery = z.object({ token: z.string().min(20, "This link is incomplete.").max(600), lang: z.enum(["en", "fa"]).optional() });

export const FollowerListQuery = z.object({
  platform: z.enum(FOLLOW_PLATFORMS).optional().catch(undefined),
  verification: z.enum(VERIFICATIONS).optional().catch(undefined),
  minFollowDays: z.coerce.number().int().min(0).max(36500).optional().catch(undefined),
  q: z.string().trim().max(100).optional(),
  cursor: z.string().max(64).optional(),
});
export type FollowerListInput = z.infer<typeof FollowerListQuery>;

/** One row of a platform follower export: handle, platform, followed-at. */
export const FollowerImportRow = z.object({
  handle,
  platform: z.enum(FOLLOW_PLATFORMS, { message: `One of ${FOLLOW_PLATFORMS.join(", ")}.` }),
  followedAt: z
    .string()
    .trim()
    .refine((v) => v === "" || !Number.isNaN(Date.parse(v)), "A date like 2026-03-14 or 2026-03-14T10:00:00Z.")
    .transform((v) => (v === "" ? null : new Date(v))),
});
