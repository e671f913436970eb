import { Router } from "express";
import { recordEvent } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { formatFeedPrice, formatMoney } from "../i18n/format.js";
import type { Locale } from "../i18n/translate.js";
import { summarize } from "../catalog/product-meta.js";
import { mediaPath } from "../media/media.paths.js";
import { GalleryQuery, PostIdParams } from "./posts.schema.js";
import { getPublicPost, listGalleryPosts } from "./posts.service.js";
import { postForPage, type PostForPage } from "./posts.view.js";

type T = (key: string, vars?: Record<string, unknown>) => string;

/** Public pages: the link-in-bio gallery and one page per post. GET only. */
export function postsRoutes(deps: Deps) {
  const router = Router();

  router.get("/gallery", validate({ query: GalleryQuery }), async (req, res) => {
    const { available, collection, page } = req.valid.query as { available?: "1"; collection?: string; page: number };
    const locale = res.locals.locale as Locale;
    const t = res.locals.t as T;
    const list = await listGalleryPosts(deps, { locale, available: available === "1", collectionSlug: collection, page });
    const posts = list.posts.map((p) => postForPage(p, locale));
    // "More posts" pages are the same visit to the gallery.
    if (page === 1) recordEvent(deps, { type: "gallery_view" }, req);
    res.render("posts/gallery", {
      title: t("gallery.title"),
      nav: "gallery",
      posts,
      available: available === "1",
      availableParam: available,
      collection: list.collection,
      page,
      nextPage: list.hasMore ? page + 1 : null,
      meta: galleryMeta(posts, t, locale, deps.shop.name),
    });
  });

  router.get("/posts/:id", validate({ params: PostIdParams }), async (req, res) => {
    const locale = res.locals.locale as Locale;
    const found = await getPublicPost(deps, { id: req.valid.params.id, locale });
    if (!found) throw AppError.notFound("post");
    recordEvent(deps, { type: "post_view", postId: found.id }, req);
    const post = postForPage(found, locale);
    res.render("posts/post", {
      title: post.excerpt || post.title,
      nav: "gallery",
      post,
      meta: postMeta(post, res.locals.t as T, locale),
    });
  });

  return router;
}

/**
 * Link previews (WhatsApp, Telegram, Instagram DMs) of the gallery: the newest
 * post's picture, how many products are in stock, and the lowest price.
 */
function galleryMeta(posts: PostForPage[], t: T, locale: Locale, shopName: string) {
  const cover = posts.find((p) => p.image)?.image;
  const buyable = posts.flatMap((p) => p.tags).filter((tag) => tag.state === "in_stock" && tag.offer);
  const products = new Set(buyable.map((tag) => tag.productId)).size;
  const cheapest = buyable.reduce<(typeof buyable)[number] | null>((a, b) => (!a || b.offer!.priceMinor < a.offer!.priceMinor ? b : a), null);
  return {
    title: `${t("gallery.title")} · ${shopName}`,
    description: t("gallery.metaDescription", { posts: posts.length, shop: shopName, products }),
    type: "website",
    path: "/gallery",
    image: cover ? mediaPath(cover.storageKey, "square") : null,
    imageAlt: cover?.alt || t("gallery.title"),
    imageWidth: 800,
    imageHeight: 800,
    ...(cheapest
      ? {
          priceLabel: t("product.from", { price: formatMoney(cheapest.offer!.priceMinor, cheapest.offer!.currency, locale) }),
          availabilityLabel: t("gallery.metaInStock", { count: products }),
        }
      : {}),
  };
}

/**
 * A post's preview: its picture, caption, and the first product's price and
 * availability (as Open Graph product tags, the form chat apps show).
 */
function postMeta(post: PostForPage, t: T, locale: Locale) {
  const lead = post.tags.find((tag) => tag.state === "in_stock") ?? post.tags[0];
  const titles = [...new Set(post.tags.map((tag) => tag.title))];
  const description = [summarize(post.caption, 160), titles.length ? t("post.metaProducts", { products: titles.slice(0, 4).join(", ") }) : ""]
    .filter(Boolean)
    .join(" · ");
  const offer = lead?.offer;
  return {
    title: lead?.priceLabel ? `${post.excerpt || post.title} · ${lead.priceLabel}` : post.excerpt || post.title,
    description: description || post.title,
    type: titles.length === 1 ? "product" : "website",
    path: `/posts/${post.id}`,
    image: post.image ? mediaPath(post.image.storageKey, "square") : null,
    imageAlt: post.image?.alt || post.excerpt || post.title,
    imageWidth: 800,
    imageHeight: 800,
    ...(offer && lead
      ? {
          price: formatFeedPrice(offer.priceMinor, offer.currency).split(" ")[0],
          currency: offer.currency,
          availability: offer.availability === "in_stock" ? "in stock" : "out of stock",
          priceLabel: lead.priceLabel ?? formatMoney(offer.priceMinor, offer.currency, locale),
          availabilityLabel: t(offer.availability === "in_stock" ? "product.inStock" : "product.soldOut"),
        }
      : {}),
  };
}
