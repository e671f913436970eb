import { formatMoney } from "../i18n/format.js";
import { translateForPage, type Locale } from "../i18n/translate.js";
import type { PostView } from "./posts.service.js";
import type { ResolvedTag } from "./tags.service.js";

/**
 * Turns posts and resolved tags into what the templates (and the embed
 * widget) print: labels in the page's language, numbers for the hotspots,
 * "0:12 to 0:20" for video tags. No data access here.
 */

const PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";

/** 75 → "1:15"; in Persian with Persian digits. */
export function formatClock(seconds: number, locale: Locale): string {
  const total = Math.max(0, Math.round(seconds));
  const text = `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
  return locale === "fa" ? text.replace(/\d/g, (d) => PERSIAN_DIGITS[Number(d)]!) : text;
}

export function timeLabel(tag: { startSec: number | null; endSec: number | null }, locale: Locale): string | null {
  if (tag.startSec === null) return null;
  const start = formatClock(tag.startSec, locale);
  return tag.endSec === null ? translateForPage(locale, "post.at", { time: start }) : translateForPage(locale, "post.from", { start, end: formatClock(tag.endSec, locale) });
}

export interface TagForPage extends ResolvedTag {
  number: number;
  time: string | null;
  priceLabel: string | null;
  hotspotLabel: string;
}

export function tagForPage(tag: ResolvedTag, index: number, locale: Locale): TagForPage {
  const price = tag.offer ? formatMoney(tag.offer.priceMinor, tag.offer.currency, locale) : null;
  const priceLabel = price && tag.priceVaries ? translateForPage(locale, "product.from", { price }) : price;
  const n = index + 1;
  // Decorated in place rather than copied: the tags were resolved for this
  // page alone, and copying hundreds of wide objects with a spread was the
  // costliest step of a gallery page (bench:gallery).
  const page = tag as TagForPage;
  page.number = n;
  page.time = timeLabel(tag, locale);
  page.priceLabel = priceLabel;
  page.hotspotLabel =
    tag.state === "sold_out" && !tag.alternative
      ? translateForPage(locale, "post.hotspotSoldOut", { n, title: tag.title })
      : translateForPage(locale, "post.hotspot", { n, title: tag.title, price: priceLabel ?? "" });
  return page;
}

/** Short, single-line caption for labels and titles. */
export function captionExcerpt(caption: string, max = 90): string {
  const plain = caption.replace(/\s+/g, " ").trim();
  return plain.length <= max ? plain : `${plain.slice(0, max - 1).trimEnd()}…`;
}

export function postForPage(post: PostView, locale: Locale) {
  const platformLabel = translateForPage(locale, `platform.${post.platform}`);
  const excerpt = captionExcerpt(post.caption);
  return {
    ...post,
    platformLabel,
    excerpt,
    title: translateForPage(locale, "post.title", { platform: platformLabel }),
    openLabel: excerpt ? translateForPage(locale, "gallery.open", { platform: platformLabel, caption: excerpt }) : translateForPage(locale, "post.title", { platform: platformLabel }),
    hasHotspots: post.mediaType === "image" && post.tags.length > 0,
    tags: post.tags.map((t, i) => tagForPage(t, i, locale)),
  };
}

export type PostForPage = ReturnType<typeof postForPage>;
