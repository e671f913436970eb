/**
 * Which social platform something came from, told from what we have: a post's
 * or live session's own platform, a channel name ("instagram-story"), a UTM
 * source, or a referring host. The same few rules everywhere, so a click, the
 * views after it and the order it led to land on the same platform row.
 */
export const SOCIAL_PLATFORMS = ["instagram", "facebook", "tiktok", "pinterest", "youtube", "x", "telegram", "whatsapp"] as const;
export type SocialPlatform = (typeof SOCIAL_PLATFORMS)[number];

const ALIASES: Record<string, SocialPlatform> = {
  instagram: "instagram",
  insta: "instagram",
  ig: "instagram",
  facebook: "facebook",
  fb: "facebook",
  meta: "facebook",
  tiktok: "tiktok",
  tt: "tiktok",
  pinterest: "pinterest",
  pin: "pinterest",
  youtube: "youtube",
  yt: "youtube",
  x: "x",
  twitter: "x",
  telegram: "telegram",
  tg: "telegram",
  whatsapp: "whatsapp",
  wa: "whatsapp",
};

/** "instagram-story", "IG_bio", "tiktok live" → the platform; anything else → null. */
export function platformFromText(text: string | null | undefined): SocialPlatform | null {
  if (!text) return null;
  const lower = text.toLowerCase().trim();
  if (ALIASES[lower]) return ALIASES[lower];
  const first = lower.split(/[^a-z0-9]+/).find(Boolean);
  return first ? (ALIASES[first] ?? null) : null;
}

const HOSTS: [RegExp, SocialPlatform][] = [
  [/(^|\.)instagram\.com$/, "instagram"],
  [/(^|\.)(facebook\.com|fb\.com|fb\.me|messenger\.com)$/, "facebook"],
  [/(^|\.)tiktok\.com$/, "tiktok"],
  [/(^|\.)(pinterest\.[a-z.]+|pin\.it)$/, "pinterest"],
  [/(^|\.)(youtube\.com|youtu\.be)$/, "youtube"],
  [/(^|\.)(x\.com|twitter\.com|t\.co)$/, "x"],
  [/(^|\.)(t\.me|telegram\.org|telegram\.me)$/, "telegram"],
  [/(^|\.)(whatsapp\.com|wa\.me)$/, "whatsapp"],
];

/** "l.instagram.com" → "instagram"; other hosts → null. */
export function platformFromHost(host: string | null | undefined): SocialPlatform | null {
  if (!host) return null;
  const h = host.toLowerCase();
  for (const [pattern, platform] of HOSTS) if (pattern.test(h)) return platform;
  return null;
}

/** "https://l.instagram.com/?u=…" → "l.instagram.com"; only the host is ever kept. */
export function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.hostname.slice(0, 200) : null;
  } catch {
    return null;
  }
}

/** The platform of an attributed record: post, live session, channel, the link's UTM source; "direct" without a link. */
export function platformOf(input: { postPlatform?: string | null; livePlatform?: string | null; channel?: string | null; utmSource?: string | null; linkId?: string | null }): string {
  const own = [input.postPlatform, input.livePlatform].find((p) => p && p !== "other");
  if (own) return platformFromText(own) ?? own;
  return platformFromText(input.channel) ?? platformFromText(input.utmSource) ?? (input.linkId || input.postPlatform || input.livePlatform ? "other" : "direct");
}
