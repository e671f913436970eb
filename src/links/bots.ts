import type { Request } from "express";

/**
 * Link-preview fetchers and crawlers. A chat app fetches a link as soon as it
 * is pasted (WhatsApp, Telegram, Slack, Discord, iMessage via facebookexternalhit
 * or Twitterbot), and search engines follow it later; none of that is a
 * shopper, so such requests are redirected but never counted or credited.
 * In-app browsers (Instagram, FBAN/FBAV, TikTok) are people and do count.
 */
const BOT_UA = new RegExp(
  [
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "telegrambot",
    "whatsapp",
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "linkedinbot",
    "googlebot",
    "google-inspectiontool",
    "bingbot",
    "applebot",
    "pinterestbot",
    "redditbot",
    "embedly",
    "skypeuripreview",
    "vkshare",
    "baiduspider",
    "duckduckbot",
    "headlesschrome",
    // The generic words most crawlers put in their User-Agent ("AhrefsBot/7.0",
    // "a bot"), without catching phone models such as "CUBOT X30".
    "\\bbot\\b",
    "bot/",
    "crawler",
    "spider",
    "preview",
  ].join("|"),
  "i",
);

/** Why a request is not counted as a click, or null for a shopper. */
export function automatedReason(req: Pick<Request, "method" | "get">): string | null {
  // HEAD asks about a page without looking at it: link checkers and previews.
  if (req.method === "HEAD") return "head";
  // Speculative loads: the browser may never show the page.
  const purpose = `${req.get("purpose") ?? ""} ${req.get("sec-purpose") ?? ""} ${req.get("x-purpose") ?? ""} ${req.get("x-moz") ?? ""}`.toLowerCase();
  if (/prefetch|prerender|preview/.test(purpose)) return "prefetch";
  const ua = req.get("user-agent")?.trim() ?? "";
  // Every browser sends a User-Agent; scripts and some checkers do not.
  if (ua === "") return "no-user-agent";
  if (BOT_UA.test(ua)) return "bot";
  return null;
}
