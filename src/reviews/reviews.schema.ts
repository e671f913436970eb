import { z } from "zod";
import { patchOf } from "../http/validate.js";
import { REJECT_REASONS } from "./moderation.js";

export const REVIEW_STATUSES = ["pending", "published", "rejected"] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];
export const REVIEW_SORTS = ["newest", "highest", "lowest", "helpful", "photos"] as const;
export type ReviewSort = (typeof REVIEW_SORTS)[number];

export const REVIEW_LIMITS = { title: 150, body: 5000, displayName: 60, email: 254, reply: 3000, question: 1000, answer: 3000, photos: 5, note: 500 } as const;

/**
 * Text a person typed: line breaks normalised, control characters removed.
 * Markup is kept as typed — it is stored as text and every template prints it
 * escaped, so `<script>` shows as those characters and never runs.
 */
const text = (field: string, max: number) =>
  z
    .string({ error: `${field}: expected text.` })
    .transform((s) => s.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, "").trim())
    .pipe(z.string().max(max, `At most ${max} characters.`));

const required = (field: string, max: number, message: string) => text(field, max).pipe(z.string().min(1, message));

/** 1 to 5 whole stars. Forms send "4"; JSON sends 4. "4.5", "6", "" and "five" are refused. */
export const Rating = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? Number(v.trim()) : v),
  z
    .number({ error: "Choose a rating from 1 to 5 stars." })
    .int("A whole number of stars from 1 to 5.")
    .min(1, "A whole number of stars from 1 to 5.")
    .max(5, "A whole number of stars from 1 to 5."),
);

/** HTML checkboxes send "on" (after a hidden "", see applyFormEdit) or nothing; JSON sends true/false. */
const checkbox = z.preprocess(
  (raw) => {
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    return v === "on" || v === "true" || v === "1" ? true : v === undefined || v === "" || v === "false" || v === "0" ? false : v;
  },
  z.boolean({ error: "true or false." }),
);

const optionalEmail = z
  .string()
  .trim()
  .max(REVIEW_LIMITS.email, `At most ${REVIEW_LIMITS.email} characters.`)
  .optional()
  .transform((v) => (v ? v.toLowerCase() : undefined))
  .pipe(z.email({ message: "Enter a valid email address, or leave it empty." }).optional());

/** A shopper's review, from the web form, the review-request form or JSON. */
export const ReviewBody = z.strictObject({
  rating: Rating,
  title: text("title", REVIEW_LIMITS.title).default(""),
  body: required("body", REVIEW_LIMITS.body, "Write a few words about the product."),
  displayName: required("displayName", REVIEW_LIMITS.displayName, "Enter the name to show with your review."),
  email: optionalEmail,
  locale: z.enum(["en", "fa"], { error: "en or fa." }).optional(),
  variantId: z.string().max(64).optional().transform((v) => v || undefined),
  /** The shopper says they got something (a discount, a free sample) for writing it. */
  incentivized: checkbox.default(false),
  /** Review-request form: which item of the order this review is about. */
  orderLineId: z.string().max(64).optional(),
  _csrf: z.string().optional(),
});
export type ReviewInput = z.infer<typeof ReviewBody>;

export const QuestionBody = z.strictObject({
  body: required("body", REVIEW_LIMITS.question, "Write your question."),
  askerName: required("askerName", REVIEW_LIMITS.displayName, "Enter the name to show with your question."),
  email: optionalEmail,
  locale: z.enum(["en", "fa"], { error: "en or fa." }).optional(),
  _csrf: z.string().optional(),
});
export type QuestionInput = z.infer<typeof QuestionBody>;

export const SlugParams = z.object({
  slug: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "A product slug uses lower-case letters, digits and dashes.").max(120),
});
export const IdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "Not an id.") });
/** 32 random bytes in base64url: anything else cannot be one of our links. */
export const TokenParams = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "Not a review link.") });

/** Product-page review list: bad values fall back to the defaults (it is a page, not a form). */
export const ReviewListQuery = z.object({
  rsort: z.enum(REVIEW_SORTS).catch("newest").default("newest"),
  rstar: z.coerce.number().int().min(1).max(5).optional().catch(undefined),
  rpage: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
  /** Thank-you notices after a redirect from a form. */
  review: z.enum(["published", "pending"]).optional().catch(undefined),
  question: z.enum(["asked"]).optional().catch(undefined),
  voted: z.enum(["1"]).optional().catch(undefined),
});
export type ReviewListOptions = z.infer<typeof ReviewListQuery>;

export const ModerateBody = z.strictObject({
  action: z.enum(["publish", "reject", "unpublish"], { error: "publish, reject or unpublish." }),
  /** Required to reject or unpublish: the uniform rule that was broken. */
  reason: z.enum(REJECT_REASONS, { error: `One of ${REJECT_REASONS.join(", ")}.` }).optional(),
  note: text("note", REVIEW_LIMITS.note).optional(),
  /** Admin forms: the page to go back to (checked against a pattern by the route). */
  returnTo: z.string().max(300).optional(),
  _csrf: z.string().optional(),
});
export type ModerateInput = z.infer<typeof ModerateBody>;

export const ReplyBody = z.strictObject({
  /** Empty removes the reply. */
  body: text("body", REVIEW_LIMITS.reply),
  returnTo: z.string().max(300).optional(),
  _csrf: z.string().optional(),
});

export const AnswerBody = z.strictObject({
  body: required("body", REVIEW_LIMITS.answer, "Write the answer."),
  _csrf: z.string().optional(),
});

/**
 * Shop settings for reviews. Deliberately nothing here can depend on the
 * stars: auto-publish, filters and requests treat every rating alike
 * (FTC 16 CFR 465), and unknown keys such as a "minimum rating" are refused.
 */
export const ReviewSettingsSchema = z.strictObject({
  whoCanReview: z.enum(["anyone", "verified"], { error: "anyone or verified." }),
  autoPublish: z.boolean({ error: "true or false." }),
  profanity: z.enum(["censor", "hold"], { error: "censor or hold." }),
  links: z.enum(["hold", "allow"], { error: "hold or allow." }),
  requestsEnabled: z.boolean({ error: "true or false." }),
  requestTrigger: z.enum(["paid", "fulfilled"], { error: "paid or fulfilled." }),
  requestDelayDays: z.number({ error: "A whole number of days from 0 to 60." }).int("A whole number of days from 0 to 60.").min(0, "A whole number of days from 0 to 60.").max(60, "A whole number of days from 0 to 60."),
  /** What every reviewer gets, whatever they write (empty: no incentive). Reviews sent through a request are then labelled incentivized. */
  incentive: z.string().trim().max(200, "At most 200 characters."),
});
export type ReviewSettings = z.infer<typeof ReviewSettingsSchema>;
export const ReviewSettingsPatch = patchOf(ReviewSettingsSchema);

export const DEFAULT_REVIEW_SETTINGS: ReviewSettings = {
  whoCanReview: "anyone",
  autoPublish: true,
  profanity: "censor",
  links: "hold",
  requestsEnabled: true,
  requestTrigger: "fulfilled",
  requestDelayDays: 7,
  incentive: "",
};

/** Settings as the admin form's strings: what a posted form is applied to (applyFormEdit). */
export function settingsToForm(s: ReviewSettings): Record<string, string> {
  return {
    whoCanReview: s.whoCanReview,
    autoPublish: s.autoPublish ? "on" : "",
    profanity: s.profanity,
    links: s.links,
    requestsEnabled: s.requestsEnabled ? "on" : "",
    requestTrigger: s.requestTrigger,
    requestDelayDays: String(s.requestDelayDays),
    incentive: s.incentive,
  };
}

/** The admin settings form: strings and checkboxes, turned into a settings object. */
export const ReviewSettingsForm = z
  .strictObject({
    whoCanReview: z.string(),
    autoPublish: checkbox.default(false),
    profanity: z.string(),
    links: z.string(),
    requestsEnabled: checkbox.default(false),
    requestTrigger: z.string(),
    requestDelayDays: z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), z.unknown()),
    incentive: z.string().default(""),
    _csrf: z.string().optional(),
  })
  .transform(({ _csrf, ...rest }) => rest)
  .pipe(ReviewSettingsSchema);

export const AdminReviewListQuery = z.object({
  status: z.enum([...REVIEW_STATUSES, "all"]).catch("pending").default("pending"),
  q: z.string().trim().max(100).optional().catch(undefined),
  productId: z.string().max(64).optional().catch(undefined),
  cursor: z.string().max(64).optional().catch(undefined),
});

export const ApiReviewListQuery = z.strictObject({
  status: z.enum(REVIEW_STATUSES, { error: `One of ${REVIEW_STATUSES.join(", ")}.` }).optional(),
  productId: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1, "At least 1.").max(100, "At most 100.").default(50),
  cursor: z.string().max(64).optional(),
});

export const ApiReviewPatch = z.strictObject({
  /** Only ever true: a disclosure can be added, never taken away. */
  incentivized: z.literal(true, { error: "Only true: the incentivized label can be added, not removed." }),
});

export const ApiReplyBody = z.strictObject({ body: required("body", REVIEW_LIMITS.reply, "Write the reply.") });
export const ApiModerateBody = ModerateBody.omit({ _csrf: true, action: true, returnTo: true });

export const CSV_FORMATS = ["auto", "ours", "judgeme", "okendo"] as const;
export const ImportForm = z.strictObject({
  format: z.enum(CSV_FORMATS, { error: `One of ${CSV_FORMATS.join(", ")}.` }).default("auto"),
  mode: z.enum(["dry-run", "apply"], { error: "dry-run or apply." }).default("dry-run"),
  _csrf: z.string().optional(),
});
export const ApiImportQuery = z.strictObject({
  format: z.enum(CSV_FORMATS, { error: `One of ${CSV_FORMATS.join(", ")}.` }).default("auto"),
  dryRun: z.enum(["true", "false"], { error: "true or false." }).default("true").transform((v) => v === "true"),
});

export const QuestionListQuery = z.object({
  filter: z.enum(["unanswered", "answered", "pending", "rejected", "all"]).catch("unanswered").default("unanswered"),
});

/** The reviews widget's JSON: same parameter names as the gallery embed (lang, limit). */
export const EmbedQuery = z.object({
  product: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).max(120).optional().catch(undefined),
  lang: z.enum(["en", "fa"]).optional().catch(undefined),
  limit: z.coerce.number().int().min(1).max(20).default(5).catch(5),
});
