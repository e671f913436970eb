import { z } from "zod";
import { REQUIRED_VERIFICATIONS } from "../coupons/coupons.schema.js";
import { FOLLOW_PLATFORMS } from "../followers/followers.schema.js";

export const LIVE_PLATFORMS = FOLLOW_PLATFORMS;
export const LIVE_STATUSES = ["scheduled", "live", "ended"] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

/** Lone surrogates and control characters are not text anyone wrote. */
export const wellFormed = (s: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s) && !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s);
const text = (max: number, what = "Text") =>
  z
    .string({ message: `${what} is required.` })
    .trim()
    .max(max, `At most ${max} characters.`)
    .refine(wellFormed, "Contains characters that are not valid text.");

const isoDate = z
  .string()
  .trim()
  .refine((v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), "A date and time like 2026-12-01T18:00:00Z.")
  .transform((v) => new Date(v));

/** http(s) only: the replay and stream links are shown to shoppers. */
const webUrl = z
  .string()
  .trim()
  .max(500, "At most 500 characters.")
  .refine((v) => v === "" || /^https?:\/\/[^\s/$.?#][^\s]*$/i.test(v), "An http:// or https:// address, or empty.");

/** Fields of a show; defaults are added for creation only, so a PATCH never fills in what it did not name. */
const sessionFields = {
  title: text(120, "title").pipe(z.string().min(1, "Give the show a title.")),
  hostName: text(80),
  platform: z.enum(LIVE_PLATFORMS, { message: `One of ${LIVE_PLATFORMS.join(", ")}.` }),
  startsAt: isoDate,
  holdMinutes: z.number().int("Whole minutes.").min(1, "At least 1 minute.").max(24 * 60, "At most 1440 minutes (a day)."),
  streamUrl: webUrl,
  replayUrl: webUrl,
};

export const SessionInput = z.strictObject({
  ...sessionFields,
  hostName: sessionFields.hostName.default(""),
  platform: sessionFields.platform.default("instagram"),
  holdMinutes: sessionFields.holdMinutes.default(15),
  streamUrl: sessionFields.streamUrl.default(""),
  replayUrl: sessionFields.replayUrl.default(""),
  /** Optional public code for /live/:code; a random one otherwise. */
  code: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$/, "3–40 lower-case letters, digits and dashes.")
    .optional(),
});
export type SessionInputT = z.infer<typeof SessionInput>;

/** A PATCH changes exactly the fields it names. */
export const SessionPatch = z.strictObject(sessionFields).partial();
export type SessionPatchT = z.infer<typeof SessionPatch>;

export const CLAIM_CODE = /^[A-Za-z0-9]{1,12}$/;
const money = z.number({ message: "A whole number of minor units (1250 = 12.50)." }).int("A whole number of minor units (1250 = 12.50).").min(0, "Prices cannot be negative.").max(100_000_000_00, "Too large.");

export const ItemInput = z.strictObject({
  productId: z.string().min(1, "Choose a product.").max(64),
  claimCode: z.string().trim().regex(CLAIM_CODE, "1–12 letters or digits, e.g. 12 or A7."),
  livePriceMinor: money.nullish().transform((v) => v ?? null),
  perBuyerLimit: z.number().int().min(1, "At least 1, or leave empty for no limit.").max(1000).nullish().transform((v) => v ?? null),
  quantityCap: z.number().int().min(1, "At least 1, or leave empty for all the stock.").max(1_000_000).nullish().transform((v) => v ?? null),
  followerPriceMinor: money.nullish().transform((v) => v ?? null),
  followerMinDays: z.number().int().min(0).max(36500).nullish().transform((v) => v ?? null),
  followerVerification: z.enum(REQUIRED_VERIFICATIONS).default("any"),
  position: z.number().int().min(0).max(10_000).optional(),
});
export type ItemInputT = z.infer<typeof ItemInput>;
export const ItemPatch = ItemInput.omit({ productId: true, followerVerification: true }).partial().extend({ followerVerification: z.enum(REQUIRED_VERIFICATIONS).optional() }).strict();
export type ItemPatchT = z.infer<typeof ItemPatch>;

export const IdParams = z.object({ id: z.string().min(1).max(64) });
export const ItemParams = z.object({ id: z.string().min(1).max(64), itemId: z.string().min(1).max(64) });
export const CodeParams = z.object({ code: z.string().regex(/^[a-z0-9-]{3,40}$/, "Not a live show address.") });

export const FeatureInput = z.strictObject({ itemId: z.string().min(1, "Name the lineup item to feature.").max(64) });
export const PinInput = z.strictObject({ message: text(280) });

export const FlashInput = z.strictObject({
  itemId: z.string().min(1).max(64),
  priceMinor: money,
  seconds: z.number().int("Whole seconds.").min(10, "A flash deal lasts 10 to 300 seconds.").max(300, "A flash deal lasts 10 to 300 seconds."),
  unitCap: z.number().int().min(1, "At least 1 unit.").max(100_000),
  perBuyerLimit: z.number().int().min(1).max(1000).default(1),
  followersOnly: z.boolean().default(false),
  minFollowDays: z.number().int().min(0).max(36500).nullish().transform((v) => v ?? null),
  requiredVerification: z.enum(REQUIRED_VERIFICATIONS).default("any"),
});
export type FlashInputT = z.infer<typeof FlashInput>;

/** A chat comment as a bot, a forwarder or the host sends it. */
export const CommentInput = z.strictObject({
  handle: z
    .string({ message: "handle is required." })
    .trim()
    .min(1, "handle is empty.")
    .max(64, "At most 64 characters.")
    .refine(wellFormed, "Contains characters that are not valid text.")
    .refine((h) => /^@?[^\s@]+$/u.test(h), "One handle, without spaces."),
  platform: z.enum(LIVE_PLATFORMS, { message: `One of ${LIVE_PLATFORMS.join(", ")}.` }),
  text: z.string({ message: "text is required." }).trim().min(1, "The comment is empty.").max(500, "At most 500 characters.").refine(wellFormed, "Contains characters that are not valid text."),
});
export const CommentsInput = z.strictObject({
  comments: z.array(CommentInput).min(1, "Send at least one comment.").max(100, "At most 100 comments per request."),
});
export type CommentInputT = z.infer<typeof CommentInput>;

export const CommentListQuery = z.object({ unmatched: z.enum(["1", "true"]).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });

export const AnswerInput = z.strictObject({ answer: text(1000).pipe(z.string().min(1, "Write the answer.")) });

// ───────────── the shopper's side (JSON from the page's script, or form posts) ─────────────

const formInt = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), z.number().int().min(min).max(max));

export const ClaimInput = z.object({
  itemId: z.string({ message: "itemId is required." }).min(1).max(64),
  variantId: z.string({ message: "variantId is required: choose an option." }).min(1, "Choose an option.").max(64),
  quantity: formInt(1, 20).default(1),
  _csrf: z.string().optional(),
});

export const ClaimCheckoutInput = z.object({
  email: z
    .string()
    .trim()
    .max(254)
    .transform((v) => (v === "" ? null : v))
    .pipe(z.email({ message: "Enter a valid email, or leave it empty." }).nullable())
    .optional(),
  coupon: z.string().trim().max(40).optional(),
  _csrf: z.string().optional(),
});

export const RemindInput = z.object({
  email: z
    .string()
    .trim()
    .max(254)
    .transform((v) => (v === "" ? null : v))
    .pipe(z.email({ message: "Enter a valid email." }).nullable())
    .optional(),
  _csrf: z.string().optional(),
});

export const QuestionInput = z.object({
  name: text(60).default(""),
  text: text(500, "Your question").pipe(z.string().min(2, "Write your question.")),
  _csrf: z.string().optional(),
});

export const PayTokenParams = z.object({ code: CodeParams.shape.code, token: z.string().regex(/^[A-Za-z0-9_-]{4,400}\.[A-Za-z0-9_-]{32}$/, "Not a checkout link.") });

export const EventsQuery = z.object({ after: z.coerce.number().int().min(0).max(2 ** 31).optional().catch(undefined) });
export const ViewerQuery = z.object({
  item: z.string().max(64).optional().catch(undefined),
  lang: z.enum(["en", "fa"]).optional(),
  cancelled: z.string().optional(),
});
