import { z } from "zod";

/** What the shop owner is told by email, and how. Stored as one Setting row ("notifications.settings"). */
export const NotificationSettingsSchema = z.object({
  /** An order was paid. */
  orderPaid: z.boolean(),
  /** A review waits for moderation. */
  reviewPending: z.boolean(),
  /** A shopper asked a question (with how long the unanswered ones have waited). */
  questionNew: z.boolean(),
  /** A variant's stock fell to its threshold or below. */
  lowStock: z.boolean(),
  /** Shop-wide low-stock threshold (units on hand); a variant may override it. */
  lowStockThreshold: z.number().int().min(0).max(100_000),
  /** "each": one email per event; "digest": one email a day with all of it. */
  delivery: z.enum(["each", "digest"]),
  /** Hour of the day (UTC) the digest is sent. */
  digestHour: z.number().int().min(0).max(23),
  /** Where to send; empty: the admin account's email. */
  to: z.union([z.literal(""), z.email({ message: "an email address, or empty for the admin account's" })]),
  /** Language of the owner's emails; null: the shop's language. */
  locale: z.enum(["en", "fa"]).nullable(),
});
export type NotificationSettings = z.infer<typeof NotificationSettingsSchema>;

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  orderPaid: true,
  reviewPending: true,
  questionNew: true,
  lowStock: true,
  lowStockThreshold: 3,
  delivery: "each",
  digestHour: 8,
  to: "",
  locale: null,
};

const checkbox = z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean());

/** The settings form (checkboxes are absent when unticked). Unknown fields are refused. */
export const NotificationSettingsForm = z
  .object({
    _csrf: z.string().optional(),
    orderPaid: checkbox.optional(),
    reviewPending: checkbox.optional(),
    questionNew: checkbox.optional(),
    lowStock: checkbox.optional(),
    lowStockThreshold: z.coerce.number({ message: "a whole number of units, 0 or more" }).int("a whole number of units, 0 or more").min(0, "a whole number of units, 0 or more").max(100_000),
    delivery: z.enum(["each", "digest"], { message: "each or digest" }),
    digestHour: z.coerce.number({ message: "an hour from 0 to 23" }).int("an hour from 0 to 23").min(0, "an hour from 0 to 23").max(23, "an hour from 0 to 23"),
    to: z.string().trim().max(200).pipe(z.union([z.literal(""), z.email({ message: "an email address, or empty for the admin account's" })])),
    locale: z.enum(["", "en", "fa"]).transform((v) => (v === "" ? null : v)),
  })
  .strict();

/** JSON patch (API-style): exactly the named fields change. */
export const NotificationSettingsPatch = NotificationSettingsSchema.partial().strict();

export const ThresholdForm = z
  .object({
    _csrf: z.string().optional(),
    sku: z.string().trim().min(1, "the SKU of a variant").max(100),
    // Empty removes the override (the shop-wide threshold applies again).
    threshold: z.union([z.literal(""), z.coerce.number().int("a whole number of units, 0 or more").min(0, "a whole number of units, 0 or more").max(100_000)]),
  })
  .strict();
