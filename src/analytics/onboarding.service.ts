import type { Deps } from "../deps.js";
import { feedUrl, getFeedToken } from "../feeds/feeds.service.js";
import { mediaPath } from "../media/media.paths.js";
import { getShopProfile } from "../shop/shop.service.js";
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
  const settings = await deps.db.setting.findMany({ where: { key: { in: [...ONBOARDING_TICKS.map((t) => `${TICK_PREFIX}${t}`), SOCIAL_ARRIVAL_KEY] } } });
  const ticked = (t: string) => settings.some((s) => s.key === `${TICK_PREFIX}${t}` && s.value === "1");
  // The dashboard does not need the rest once the owner hid the list.
  if (input.skipIfDismissed && ticked("dismissed")) return null;
  const socialVisit = settings.some((s) => s.key === SOCIAL_ARRIVAL_KEY);
  const [products, sentEmail, tags, logo, token] = await Promise.all([
    deps.db.product.count({ where: { status: { not: "archived" } } }),
    deps.db.outboxEmail.findFirst({ where: { status: "sent" }, select: { id: true } }),
    deps.db.postTag.count({ where: { productId: { not: null } } }),
    // The logo lives in Shop settings (src/shop), its one home.
    getShopProfile(deps).then((p) => p.logo),
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

