import { recordAudit, type Actor } from "../audit/audit.service.js";
import { parseMoney } from "../catalog/money.js";
import { sql } from "../db/dialect.js";
import { readerFor } from "../db/reader.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { isCountryCode } from "../i18n/countries.js";
import type { Locale } from "../i18n/translate.js";
import { storeImage } from "../media/media.service.js";
import { ShopProfileSchema, SOCIAL_PLATFORMS, type ShopProfile, type ShopSettingsFormT, type SocialPlatform } from "./shop.schema.js";

const KEY = "shop.profile";

/** SHOP_NAME (or the embedding app's shopName), remembered before any override replaces deps.shop.name. */
const configuredNames = new WeakMap<Deps, string>();

export const DEFAULT_PROFILE: ShopProfile = ShopProfileSchema.parse({});

/**
 * The shop's own settings: name override, logo, bio, social links, the
 * countries it sells to and its return policy. A stored value that no longer
 * fits the schema reads as the defaults, so an old database never breaks a page.
 * Read on every page view (one primary-key lookup), so every instance shows
 * an edit at once; keeps `deps.shop.name` equal to the name shown, for feeds
 * and emails.
 */
export async function getShopProfile(deps: Deps): Promise<ShopProfile> {
  // Through the hot-path reader (src/db/reader.ts), not Prisma: every page and checkout reads it.
  const [row] = await (await readerFor(deps.db)).all<{ value: string }>(sql`SELECT "value" FROM "Setting" WHERE "key" = ${KEY}`);
  const profile = row ? profileOf(row.value) : DEFAULT_PROFILE;
  remember(deps, profile);
  return profile;
}

/** The last stored text and what it parsed to: the schema check runs once per change, not once per page. */
let lastParsed: { value: string; profile: ShopProfile } | null = null;

function profileOf(value: string): ShopProfile {
  if (lastParsed?.value === value) return lastParsed.profile;
  let profile = DEFAULT_PROFILE;
  try {
    const parsed = ShopProfileSchema.safeParse(JSON.parse(value));
    if (parsed.success) profile = parsed.data;
  } catch {
    profile = DEFAULT_PROFILE;
  }
  lastParsed = { value, profile };
  return profile;
}

function remember(deps: Deps, profile: ShopProfile) {
  if (!configuredNames.has(deps)) configuredNames.set(deps, deps.shop.name);
  deps.shop.name = profile.name || configuredNames.get(deps)!;
}

/** The name the server was started with (SHOP_NAME), shown when no override is set. */
export function configuredShopName(deps: Deps): string {
  return configuredNames.get(deps) ?? deps.shop.name;
}

/** Problems with one form field each; nothing is saved while there are any. */
export interface SettingsProblem {
  field: string;
  message: string;
}

/**
 * Saves the Shop settings form. The logo (if any) is re-encoded like every
 * upload, and only once the rest of the form is valid. Audited.
 */
export async function updateShopSettings(deps: Deps, input: { form: ShopSettingsFormT; logo?: Buffer; actor: Actor }): Promise<ShopProfile> {
  const { form } = input;
  const before = await getShopProfile(deps);
  const problems: SettingsProblem[] = [];
  let returns: ShopProfile["returns"] = null;
  if (form.returnsDays !== "") {
    let feeMinor: number | null = null;
    if (form.returnsFee === "fixed") {
      const money = parseMoney(form.returnsFeeAmount, deps.shop.currency);
      if (!money.ok) problems.push({ field: "returnsFeeAmount", message: form.returnsFeeAmount === "" ? "Enter the return fee." : `${money.message}.` });
      else feeMinor = money.minor;
    }
    // Returns are usually accepted where the shop sells first.
    const country = form.returnsCountry || form.countries[0]!;
    if (!isCountryCode(country)) problems.push({ field: "returnsCountry", message: "Choose a country from the list." });
    returns = { days: Number(form.returnsDays), fee: form.returnsFee, feeMinor, country };
  }
  if (problems.length > 0) {
    throw AppError.validation(`Shop settings: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`, problems);
  }

  let logo = form.removeLogo ? null : before.logo;
  if (input.logo) {
    const media = await storeImage(deps, { bytes: input.logo, alt: form.name || deps.shop.name, field: "logo" });
    logo = { mediaId: media.id, storageKey: media.storageKey };
  }
  const profile: ShopProfile = ShopProfileSchema.parse({
    name: form.name,
    bio: { en: form.bioEn, fa: form.bioFa },
    logo,
    socials: form.socials,
    countries: [...new Set(form.countries)],
    returns,
  });
  const value = JSON.stringify(profile);
  await deps.db.$transaction(async (tx) => {
    await tx.setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
    const changed = (Object.keys(profile) as (keyof ShopProfile)[]).filter((k) => JSON.stringify(profile[k]) !== JSON.stringify(before[k]));
    await recordAudit(tx, { actor: input.actor, action: "shop.settings", entityType: "settings", entityId: "shop", details: { changed } });
  });
  remember(deps, profile);
  return profile;
}

/** Sets the countries the shop sells to (tests and the seed; the admin uses the form). */
export async function setShopCountries(deps: Deps, input: { countries: string[] }): Promise<void> {
  const profile = ShopProfileSchema.parse({ ...(await getShopProfile(deps)), countries: input.countries });
  const value = JSON.stringify(profile);
  await deps.db.setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
  remember(deps, profile);
}

/** Fills in the profile on first start (the demo shop): only keys not saved yet. */
export async function seedShopProfile(deps: Deps, input: Partial<ShopProfile>): Promise<void> {
  const profile = ShopProfileSchema.parse({ ...DEFAULT_PROFILE, ...input });
  const value = JSON.stringify(profile);
  await deps.db.setting.createMany({ data: [{ key: KEY, value }] }).catch(() => undefined);
}

export interface SocialLink {
  platform: SocialPlatform;
  url: string;
}

/** The profile as pages show it in one language. */
export function shopForPage(deps: Deps, profile: ShopProfile, locale: Locale) {
  return {
    name: deps.shop.name,
    logo: profile.logo?.storageKey ?? null,
    // A Persian page without a Persian bio shows the English one rather than nothing.
    bio: (locale === "fa" ? profile.bio.fa || profile.bio.en : profile.bio.en || profile.bio.fa) || "",
    bioLang: (locale === "fa" ? (profile.bio.fa ? "fa" : "en") : profile.bio.en ? "en" : "fa") as Locale,
    socials: SOCIAL_PLATFORMS.flatMap((platform) => (profile.socials[platform] ? [{ platform, url: profile.socials[platform]! }] : [])),
  };
}
export type ShopForPage = ReturnType<typeof shopForPage>;
