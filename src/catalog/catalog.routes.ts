import { Router } from "express";
import { recordEvent } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { formatFeedPrice, formatMoney } from "../i18n/format.js";
import { validate } from "../http/validate.js";
import { mediaPath } from "../media/media.paths.js";
import { ProductPageParams, ProductPageQuery } from "./catalog.schema.js";
import { getProductPage, listStorefrontProducts } from "./catalog.service.js";
import { LOW_STOCK } from "./offer.js";
import { productJsonLd, summarize } from "./product-meta.js";
import type { Locale } from "../i18n/translate.js";
import { listGalleryPosts } from "../posts/posts.service.js";
import { postForPage } from "../posts/posts.view.js";
import type { ShopForPage } from "../shop/shop.service.js";
import type { ShopProfile } from "../shop/shop.schema.js";
import { pageUrls } from "../i18n/alternates.js";

/** Shoppable posts on the home page; the gallery has the rest. */
const HOME_POSTS = 6;

/** Storefront pages: the product grid and the product page. */
export function catalogRoutes(deps: Deps) {
  const router = Router();

  // A social shop's home: who the shop is (logo, name, bio, its accounts),
  // its latest shoppable posts, then the products.
  router.get("/", async (_req, res) => {
    const locale = res.locals.locale as Locale;
    const [{ items }, gallery] = await Promise.all([
      listStorefrontProducts(deps, { locale }),
      listGalleryPosts(deps, { locale, pageSize: HOME_POSTS }),
    ]);
    const cover = items.find((p) => p.image)?.image;
    const shop = res.locals.shop as ShopForPage;
    res.render("catalog/home", {
      // The layout adds the shop's name; the home page's own title would repeat it.
      title: null,
      products: items,
      posts: gallery.posts.map((p) => postForPage(p, locale)),
      morePosts: gallery.hasMore,
      // The largest image a phone sees first is the first post tile, or without posts the first product.
      eagerProduct: gallery.posts.length === 0 ? 0 : -1,
      meta: {
        title: deps.shop.name,
        description: summarize(shop.bio) || res.locals.t("home.lead"),
        type: "website",
        path: "/",
        image: cover ? mediaPath(cover.storageKey, "square") : null,
      },
    });
  });

  router.get("/p/:slug", validate({ params: ProductPageParams, query: ProductPageQuery }), async (req, res) => {
    const product = await getProductPage(deps, { slug: req.valid.params.slug, locale: res.locals.locale, variantId: req.valid.query.variant, reviewsQuery: req.query });
    if (!product) throw AppError.notFound("product");
    recordEvent(deps, { type: "product_view", productId: product.id }, req);
    const absolute = (p: string) => `${res.locals.publicBase}${p}`;
    const locale = res.locals.locale as Locale;
    const profile = res.locals.shopProfile as ShopProfile;
    const { canonical } = pageUrls({ publicBase: res.locals.publicBase, path: `/p/${product.slug}`, locale, defaultLocale: res.locals.defaultLocale });
    const { offer } = product.selected;
    const cover = product.images[0];
    res.render("catalog/product", {
      title: product.title,
      product,
      lowStock: offer.available > 0 && offer.available <= LOW_STOCK,
      savePercent: offer.compareAtMinor ? Math.round((1 - offer.priceMinor / offer.compareAtMinor) * 100) : 0,
      multipleVariants: product.variants.length > 1,
      jsonLd: productJsonLd(product, {
        pageUrl: canonical,
        absolute,
        shopName: deps.shop.name,
        shipping: { options: deps.checkout.shippingOptions, countries: profile.countries, locale, currency: deps.shop.currency },
        returns: profile.returns,
      }),
      meta: {
        title: `${product.title} · ${formatMoney(offer.priceMinor, offer.currency, res.locals.locale)}`,
        description: summarize(product.description),
        type: "product",
        path: `/p/${product.slug}`,
        image: cover ? mediaPath(cover.storageKey, "square") : null,
        imageAlt: cover?.alt ?? product.title,
        imageWidth: 800,
        imageHeight: 800,
        price: formatFeedPrice(offer.priceMinor, offer.currency).split(" ")[0],
        currency: offer.currency,
        availability: offer.availability === "in_stock" ? "in stock" : "out of stock",
        priceLabel: formatMoney(offer.priceMinor, offer.currency, res.locals.locale),
        availabilityLabel: res.locals.t(offer.availability === "in_stock" ? "product.inStock" : "product.soldOut"),
      },
    });
  });

  return router;
}
