import { readFileSync } from "node:fs";
import path from "node:path";
import { Router, type RequestHandler } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { publicBaseFor } from "../http/urls.js";
import { formatMoney, formatNumber } from "../i18n/format.js";
import { directionOf, translate, type Locale } from "../i18n/translate.js";
import { IMAGE_WIDTHS, mediaPath } from "../media/media.paths.js";
import { EmbedQuery } from "./posts.schema.js";
import { listGalleryPosts } from "./posts.service.js";
import { postForPage } from "./posts.view.js";

/**
 * The embeddable gallery: /embed/gallery.js (the script a shop pastes into
 * any site), /embed/gallery.css (its styles, adopted into a Shadow DOM) and
 * /embed/gallery.json (the posts). Mounted before cookie parsing, CSRF and
 * the language cookie, so these answers never set a cookie, and with
 * headers that let other origins load them:
 *  - Access-Control-Allow-Origin: * (no credentials) for the fetches;
 *  - Cross-Origin-Resource-Policy: cross-origin, since helmet's same-origin
 *    default would stop another site from running the script at all.
 */
export function embedRoutes(deps: Deps, input: { viewsDir: string }) {
  const router = Router();
  const script = readFileSync(path.join(input.viewsDir, "static/js/embed-gallery.js"));
  const styles = readFileSync(path.join(input.viewsDir, "static/css/embed-gallery.css"));

  router.get("/embed/gallery.js", crossOrigin, (_req, res) => {
    res.set({ "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" });
    res.send(script);
  });

  router.get("/embed/gallery.css", crossOrigin, (_req, res) => {
    res.set({ "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" });
    res.send(styles);
  });

  router.get("/embed/gallery.json", crossOrigin, async (req, res) => {
    const q = EmbedQuery.parse(req.query);
    const locale: Locale = q.lang ?? deps.shop.locale;
    const list = await listGalleryPosts(deps, { locale, available: q.available === "1", pageSize: q.limit });
    const base = publicBaseFor(req, deps.shop.publicUrl);
    // Prices and stock change at any moment: caches may keep a copy but must revalidate (ETag) each time.
    res.set("Cache-Control", "public, no-cache");
    res.json(toEmbedJson(list.posts.map((p) => postForPage(p, locale)), { base, locale, shopName: deps.shop.name }));
  });

  // Simple GETs need no preflight; answer one anyway for clients that send it.
  router.options(["/embed/gallery.json", "/embed/gallery.css", "/embed/gallery.js"], crossOrigin, (_req, res) => {
    res.set({ "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": "86400" }).status(204).end();
  });
  router.all(["/embed/gallery.json", "/embed/gallery.css", "/embed/gallery.js"], (req) => {
    throw new AppError("method_not_allowed", 405, `${req.method} is not allowed here; the embed endpoints answer GET only.`, ["GET", "HEAD", "OPTIONS"]);
  });

  return router;
}

const crossOrigin: RequestHandler = (_req, res, next) => {
  res.set({ "Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin" });
  next();
};

/** Public images (/media) may be shown by the embed on other sites; helmet's default would block them there. */
export const crossOriginMedia: RequestHandler = (_req, res, next) => {
  res.set("Cross-Origin-Resource-Policy", "cross-origin");
  next();
};

type PagePost = ReturnType<typeof postForPage>;

/** Absolute URLs and ready-to-print labels: the widget only places text and images. */
export function toEmbedJson(posts: PagePost[], ctx: { base: string; locale: Locale; shopName: string }) {
  const abs = (p: string) => `${ctx.base}${p}`;
  const t = (key: string, vars?: Record<string, unknown>) => translate(ctx.locale, key, vars);
  const image = (img: { storageKey: string; width: number; height: number; alt: string } | null, size: 320 | 640 | 1024) =>
    img
      ? {
          src: abs(mediaPath(img.storageKey, size)),
          srcset: IMAGE_WIDTHS.map((w) => `${abs(mediaPath(img.storageKey, w))} ${w}w`).join(", "),
          width: img.width,
          height: img.height,
          alt: img.alt,
        }
      : null;
  return {
    shop: { name: ctx.shopName, url: abs("/gallery") },
    lang: ctx.locale,
    dir: directionOf(ctx.locale),
    labels: {
      title: t("gallery.title"),
      close: t("gallery.close"),
      inThisPost: t("post.products"),
      nothing: t("post.noProducts"),
      empty: t("gallery.empty"),
      more: t("gallery.more"),
    },
    posts: posts.map((p) => ({
      id: p.id,
      url: abs(`/posts/${p.id}`),
      platform: p.platform,
      platformLabel: p.platformLabel,
      openLabel: p.openLabel,
      caption: p.caption,
      video: p.mediaType === "video",
      shopLabel: p.tags.length ? t("gallery.shopCount", { count: p.tags.length }) : null,
      permalink: p.permalink || null,
      viewLabel: p.permalink ? t("post.view", { platform: p.platformLabel }) : null,
      image: image(p.image, 640),
      tags: p.tags.map((tag) => ({
        id: tag.id,
        number: tag.number,
        numberLabel: formatNumber(tag.number, ctx.locale),
        x: p.hasHotspots ? tag.x : null,
        y: p.hasHotspots ? tag.y : null,
        time: tag.time,
        title: tag.title,
        variant: tag.variant?.label ?? null,
        price: tag.priceLabel,
        compareAt: tag.offer?.compareAtMinor ? formatMoney(tag.offer.compareAtMinor, tag.offer.currency, ctx.locale) : null,
        soldOut: tag.state === "sold_out",
        stock: tag.state === "in_stock" ? (tag.lowStock ? t("product.lowStock", { count: tag.offer!.available }) : t("product.inStock")) : t("product.soldOut"),
        hotspotLabel: tag.hotspotLabel,
        url: abs(tag.href!),
        image: image(tag.image, 320),
        alternative: tag.alternative
          ? { label: t("post.tryOther", { label: tag.alternative.label }), price: formatMoney(tag.alternative.offer.priceMinor, tag.alternative.offer.currency, ctx.locale), url: abs(tag.alternative.href) }
          : null,
      })),
    })),
  };
}

export type EmbedJson = ReturnType<typeof toEmbedJson>;
