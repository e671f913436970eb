import { z } from "zod";
import { PLATFORMS, type Platform } from "./feeds.rules.js";

/** The four public feed files, by the name platforms fetch. */
export const FEED_FILES = { "google.xml": "google", "meta.csv": "meta", "pinterest.csv": "pinterest", "tiktok.csv": "tiktok" } as const satisfies Record<string, Platform>;
export type FeedFile = keyof typeof FEED_FILES;

export const FeedParams = z.object({
  file: z.enum(Object.keys(FEED_FILES) as [FeedFile, ...FeedFile[]]),
});

/** Feed tokens are 43 base64url characters (32 random bytes); accept any sane length. */
export const FEED_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

// Not strict: fetchers and proxies may add their own parameters (cache
// busters); a feed ignores them rather than failing a scheduled fetch.
export const FeedQuery = z.object({
  token: z
    .string({ message: "Give the token once, as ?token=<value>." })
    .regex(FEED_TOKEN, "A feed token is 16 to 128 letters, digits, '-' or '_'; copy the feed URL from Admin → Feed health.")
    .optional(),
});

export const HealthQuery = z.strictObject({
  platform: z.enum(PLATFORMS, { message: `One of ${PLATFORMS.join(", ")}.` }).optional(),
  lang: z.enum(["en", "fa"]).optional(),
});

/** After a token form: which confirmation to show. */
export const FeedHealthPageQuery = z.object({
  done: z.enum(["rotated", "cleared"]).optional(),
  lang: z.enum(["en", "fa"]).optional(),
});

export const TokenForm = z.strictObject({
  _csrf: z.string().optional(),
});

