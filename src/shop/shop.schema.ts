import { z } from "zod";
import { isCountryCode } from "../i18n/countries.js";

/** Social accounts a shop links to from its home page, in the order they are shown. */
export const SOCIAL_PLATFORMS = ["instagram", "tiktok", "pinterest", "telegram", "youtube", "whatsapp", "facebook"] as const;
export type SocialPlatform = (typeof SOCIAL_PLATFORMS)[number];

/** Who pays for a return: free returns, the shopper pays the return postage, or a fixed fee. */
export const RETURN_FEES = ["free", "customer", "fixed"] as const;
export type ReturnFee = (typeof RETURN_FEES)[number];

const country = z.string().refine(isCountryCode, "Choose a country from the list.");

/** What is stored under the "shop.profile" setting (and returned by getShopProfile). */
export const ShopProfileSchema = z.object({
  /** Shown instead of SHOP_NAME when set. */
  name: z.string().max(80).default(""),
  bio: z.object({ en: z.string().max(500).default(""), fa: z.string().max(500).default("") }).default({ en: "", fa: "" }),
  /** The uploaded logo (re-encoded like any image); its key is kept so pages need no extra query. */
  logo: z.object({ mediaId: z.string(), storageKey: z.string() }).nullable().default(null),
  socials: z.partialRecord(z.enum(SOCIAL_PLATFORMS), z.url()).default({}),
  /** Where the shop sells and ships: JSON-LD shipping destinations, the Google feed's target countries. */
  countries: z.array(country).max(60).default(["US"]),
  /** Null: the shop states no return policy. */
  returns: z
    .object({
      /** 0 = returns are not accepted. */
      days: z.number().int().min(0).max(365),
      fee: z.enum(RETURN_FEES),
      /** Only for "fixed", in the shop's currency. */
      feeMinor: z.number().int().min(0).nullable(),
      country,
    })
    .nullable()
    .default(null),
});
export type ShopProfile = z.infer<typeof ShopProfileSchema>;

/**
 * Accepts a full profile address on the platform's own domain, or a handle
 * (WhatsApp: a phone number in international form), and stores the address.
 */
const SOCIAL_RULES: Record<SocialPlatform, { hosts: RegExp; fromHandle: (h: string) => string; hint: string }> = {
  instagram: { hosts: /^(www\.)?instagram\.com$/, fromHandle: (h) => `https://www.instagram.com/${h}/`, hint: "an Instagram address (https://www.instagram.com/yourshop) or @handle" },
  tiktok: { hosts: /^(www\.)?tiktok\.com$/, fromHandle: (h) => `https://www.tiktok.com/@${h}`, hint: "a TikTok address (https://www.tiktok.com/@yourshop) or @handle" },
  pinterest: { hosts: /^([a-z]{2,3}\.|www\.)?pinterest\.[a-z.]{2,6}$/, fromHandle: (h) => `https://www.pinterest.com/${h}/`, hint: "a Pinterest address (https://www.pinterest.com/yourshop) or handle" },
  telegram: { hosts: /^(t\.me|telegram\.me)$/, fromHandle: (h) => `https://t.me/${h}`, hint: "a Telegram address (https://t.me/yourshop) or @handle" },
  youtube: { hosts: /^((www|m)\.)?youtube\.com$|^youtu\.be$/, fromHandle: (h) => `https://www.youtube.com/@${h}`, hint: "a YouTube address (https://www.youtube.com/@yourshop) or @handle" },
  whatsapp: { hosts: /^(wa\.me|(api|chat|www)\.whatsapp\.com|whatsapp\.com)$/, fromHandle: (h) => `https://wa.me/${h}`, hint: "a WhatsApp link (https://wa.me/15551234567) or a phone number with its country code" },
  facebook: { hosts: /^((www|m)\.)?(facebook|fb)\.com$/, fromHandle: (h) => `https://www.facebook.com/${h}`, hint: "a Facebook address (https://www.facebook.com/yourshop) or page name" },
};

export function socialHint(platform: SocialPlatform): string {
  return SOCIAL_RULES[platform].hint;
}

/** "" → undefined (no link); an address on the platform or a handle → the address; otherwise a Zod issue. */
function socialLink(platform: SocialPlatform) {
  const rule = SOCIAL_RULES[platform];
  return z
    .string()
    .trim()
    .max(300, "At most 300 characters.")
    .transform((raw, ctx) => {
      if (raw === "") return undefined;
      if (platform === "whatsapp") {
        const phone = raw.replace(/[\s().-]/g, "");
        if (/^\+?\d{6,15}$/.test(phone)) return rule.fromHandle(phone.replace(/^\+/, ""));
      } else {
        const handle = raw.replace(/^@/, "");
        if (/^[A-Za-z0-9._-]{1,60}$/.test(handle)) return rule.fromHandle(handle);
      }
      let url: URL | null = null;
      try {
        url = new URL(/^https?:\/\//i.test(raw) ? raw : `https://${raw}`);
      } catch {
        url = null;
      }
      if (!url || !rule.hosts.test(url.hostname.toLowerCase()) || url.username || url.password) {
        ctx.addIssue({ code: "custom", message: `Enter ${rule.hint}.` });
        return z.NEVER;
      }
      url.protocol = "https:";
      return url.toString();
    });
}

const text = (max: number) => z.string().trim().max(max, `At most ${max} characters.`).default("");

/** The Shop settings form (multipart: the logo travels with it). Unknown fields are refused. */
export const ShopSettingsForm = z
  .strictObject({
    _csrf: z.string().optional(),
    name: text(80),
    bioEn: z.string().max(500, "At most 500 characters.").default("").transform((s) => s.replace(/\r\n/g, "\n").trim()),
    bioFa: z.string().max(500, "At most 500 characters.").default("").transform((s) => s.replace(/\r\n/g, "\n").trim()),
    removeLogo: z.literal("on").optional(),
    ...Object.fromEntries(SOCIAL_PLATFORMS.map((p) => [`social_${p}`, socialLink(p).optional()])),
    countries: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
      .pipe(z.array(country).min(1, "Choose at least one country you sell to.").max(60, "At most 60 countries.")),
    returnsDays: z
      .string()
      .trim()
      .default("")
      .refine((v) => v === "" || (/^\d{1,3}$/.test(v) && Number(v) <= 365), "A whole number of days from 0 to 365, or empty."),
    returnsFee: z.enum(RETURN_FEES, { message: `One of ${RETURN_FEES.join(", ")}.` }).default("free"),
    returnsFeeAmount: z.string().trim().max(20).default(""),
    returnsCountry: z.string().trim().default(""),
  })
  .transform((form) => ({
    ...form,
    socials: Object.fromEntries(SOCIAL_PLATFORMS.map((p) => [p, (form as Record<string, unknown>)[`social_${p}`] as string | undefined]).filter(([, v]) => v)) as Partial<Record<SocialPlatform, string>>,
  }));
export type ShopSettingsFormT = z.infer<typeof ShopSettingsForm>;

export const ShopSettingsPageQuery = z.object({
  saved: z.literal("1").optional(),
  lang: z.enum(["en", "fa"]).optional(),
});
