import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { feedUrl, getFeedToken } from "../feeds/feeds.service.js";
import { mediaPath } from "../media/media.paths.js";
import { storeImage } from "../media/media.service.js";
import { ONBOARDING_TICKS } from "./analytics.schema.js";
import { SOCIAL_ARRIVAL_KEY } from "./events.js";

/**
 * The new shop's checklist on the dashboard. Each step is detected from what
 * the shop really did where we can see it; the two we cannot see (a feed URL
 * pasted into a platform's console, the gallery link in a bio before anyone
 * used it) are ticked by the owner. Ticks and the logo live in Setting rows.
 */
export const DEFAULT_SHOP_NAMES = ["Bazaarche", "Bazaarche Demo"];
const TICK_PREFIX = "onboarding.";
/** The owner's "Hide this list" (read with the dashboard's version, so a hidden list costs nothing). */
export const CHECKLIST_HIDDEN_KEY = "onboarding.dismissed";
export const LOGO_KEY = "shop.logoMediaId";

export const FEED_PLATFORMS = [
  { id: "google", tick: "feed_google", label: "Google Merchant Center" },
  { id: "meta", tick: "feed_meta", label: "Meta Commerce Manager" },
  { id: "pinterest", tick: "feed_pinterest", label: "Pinterest" },
  { id: "tiktok", tick: "feed_tiktok", label: "TikTok" },
] as const;

export type StepId = "identity" | "product" | "payments" | "email" | "feeds" | "post" | "bio";

export interface Onboarding {
  steps: { id: StepId; done: boolean; how: "detected" | "ticked" | null }[];
  done: number;
  total: number;
  complete: boolean;
  dismissed: boolean;
  shopName: string;
  nameSet: boolean;
  logoPath: string | null;
  feeds: { id: string; tick: string; label: string; url: string; pasted: boolean }[];
  galleryUrl: string;
  bio: { detected: boolean; ticked: boolean };
}

export async function getOnboarding(deps: Deps, input: { publicBase: string }): Promise<Onboarding>;
export async function getOnboarding(deps: Deps, input: { publicBase: string; skipIfDismissed: true }): Promise<Onboarding | null>;
export async function getOnboarding(deps: Deps, input: { publicBase: string; skipIfDismissed?: boolean }): Promise<Onboarding | null> {
  const settings = await deps.db.setting.findMany({ where: { key: { in: [...ONBOARDING_TICKS.map((t) => `${TICK_PREFIX}${t}`), LOGO_KEY, SOCIAL_ARRIVAL_KEY] } } });
  const ticked = (t: string) => settings.some((s) => s.key === `${TICK_PREFIX}${t}` && s.value === "1");
  // The dashboard does not need the rest once the owner hid the list.
  if (input.skipIfDismissed && ticked("dismissed")) return null;
  const logoId = settings.find((s) => s.key === LOGO_KEY)?.value ?? null;
  const socialVisit = settings.some((s) => s.key === SOCIAL_ARRIVAL_KEY);
  const [products, sentEmail, tags, logo, token] = await Promise.all([
    deps.db.product.count({ where: { status: { not: "archived" } } }),
    deps.db.outboxEmail.findFirst({ where: { status: "sent" }, select: { id: true } }),
    deps.db.postTag.count({ where: { productId: { not: null } } }),
    logoId ? deps.db.media.findUnique({ where: { id: logoId }, select: { storageKey: true } }) : null,
    getFeedToken(deps),
  ]);
  const nameSet = !DEFAULT_SHOP_NAMES.includes(deps.shop.name);
  const feeds = FEED_PLATFORMS.map((f) => ({ ...f, url: feedUrl(input.publicBase, f.id, token), pasted: ticked(f.tick) }));
  // The gallery link in a bio: someone arrived at the gallery or a tracked link from a social platform (noted by the event writer).
  const bio = { detected: socialVisit, ticked: ticked("bio_link") };
  const steps: Onboarding["steps"] = [
    { id: "identity", done: nameSet && !!logo, how: nameSet && logo ? "detected" : null },
    { id: "product", done: products > 0, how: products > 0 ? "detected" : null },
    { id: "payments", done: deps.payments.provider === "stripe", how: deps.payments.provider === "stripe" ? "detected" : null },
    { id: "email", done: !!sentEmail, how: sentEmail ? "detected" : null },
    { id: "feeds", done: feeds.every((f) => f.pasted), how: feeds.every((f) => f.pasted) ? "ticked" : null },
    { id: "post", done: tags > 0, how: tags > 0 ? "detected" : null },
    { id: "bio", done: bio.detected || bio.ticked, how: bio.detected ? "detected" : bio.ticked ? "ticked" : null },
  ];
  const done = steps.filter((s) => s.done).length;
  return {
    steps,
    done,
    total: steps.length,
    complete: done === steps.length,
    dismissed: ticked("dismissed"),
    shopName: deps.shop.name,
    nameSet,
    logoPath: logo ? mediaPath(logo.storageKey, "square") : null,
    feeds,
    galleryUrl: `${input.publicBase}/gallery`,
    bio,
  };
}

export async function tickOnboarding(deps: Deps, input: { item: (typeof ONBOARDING_TICKS)[number]; done: boolean }) {
  const key = `${TICK_PREFIX}${input.item}`;
  const value = input.done ? "1" : "0";
  await deps.db.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
}

const logoCache = new WeakMap<object, { path: string | null; at: number }>();
/** Another instance's new logo shows here within this time; this instance's at once. */
const LOGO_TTL_MS = 10 * 60_000;

/**
 * The shop logo's square image path, cached per process (every page's header
 * asks). The storefront reads it once when it is built, so pages do not.
 */
export async function shopLogoPath(deps: Pick<Deps, "db">): Promise<string | null> {
  const cached = logoCache.get(deps.db);
  if (cached && Date.now() - cached.at < LOGO_TTL_MS) return cached.path;
  const setting = await deps.db.setting.findUnique({ where: { key: LOGO_KEY } });
  const media = setting ? await deps.db.media.findUnique({ where: { id: setting.value }, select: { storageKey: true } }) : null;
  const path = media ? mediaPath(media.storageKey, "square") : null;
  logoCache.set(deps.db, { path, at: Date.now() });
  return path;
}

/** Stores an uploaded logo (re-encoded like every image) and makes it the shop's. */
export async function setShopLogo(deps: Deps, input: { bytes: Buffer | undefined }) {
  if (!input.bytes || input.bytes.length === 0) throw AppError.validation("logo: choose an image file (JPEG, PNG or WebP).", [{ field: "logo", message: "required" }]);
  const media = await storeImage(deps, { bytes: input.bytes, alt: deps.shop.name, field: "logo" });
  await deps.db.setting.upsert({ where: { key: LOGO_KEY }, create: { key: LOGO_KEY, value: media.id }, update: { value: media.id } });
  logoCache.delete(deps.db);
  return media;
}
