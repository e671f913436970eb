import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import cookieParser from "cookie-parser";
import express, { type Express, type RequestHandler } from "express";
import { pino, type Logger } from "pino";
import { z } from "zod";
import { adminRoutes } from "./admin/admin.routes.js";
import { analyticsAdminRoutes, objectPanel } from "./analytics/analytics.routes.js";
import { shopLogoPath } from "./analytics/onboarding.service.js";
import { apiRoutes } from "./api/api.routes.js";
import { loadAdmin, requireAdmin, requireApiToken } from "./auth/auth.middleware.js";
import { authRoutes } from "./auth/auth.routes.js";
import { catalogAdminRoutes } from "./catalog/catalog.admin.routes.js";
import { csvAdminRoutes } from "./catalog/csv/csv.routes.js";
import { catalogRoutes } from "./catalog/catalog.routes.js";
import { CART_COOKIE, countCartItems } from "./checkout/cart.service.js";
import { checkoutRoutes } from "./checkout/checkout.routes.js";
import { readAttribution } from "./links/attribution.js";
import { couponAdminRoutes } from "./coupons/coupons.admin.routes.js";
import { couponCartRoutes } from "./coupons/coupons.routes.js";
import { followerAdminRoutes } from "./followers/followers.admin.routes.js";
import { outboxAdminRoutes } from "./mail/outbox.admin.routes.js";
import { followerRoutes } from "./followers/followers.routes.js";
import { ordersAdminRoutes } from "./checkout/orders.admin.routes.js";
import { stripeWebhookRoutes } from "./checkout/webhooks.routes.js";
import type { Db } from "./db/client.js";
import type { Deps } from "./deps.js";
import { feedAdminRoutes, feedApiRoutes, feedRoutes } from "./feeds/feeds.routes.js";
import { healthRoutes } from "./health/health.routes.js";
import { csrfProtection } from "./http/csrf.js";
import { errorHandler, notFound } from "./http/error-handler.js";
import { localeMiddleware } from "./http/locale.js";
import { requestLog } from "./http/request-log.js";
import { securityHeaders } from "./http/security.js";
import { publicBaseFor } from "./http/urls.js";
import { LOCALES } from "./i18n/translate.js";
import { linksAdminRoutes } from "./links/links.admin.routes.js";
import { linksRoutes } from "./links/links.routes.js";
import { mediaRoutes } from "./media/media.routes.js";
import { LocalGateway } from "./payments/local-gateway.js";
import type { PaymentGateway } from "./payments/gateway.js";
import { crossOriginMedia, embedRoutes } from "./posts/embed.js";
import { postsAdminRoutes } from "./posts/posts.admin.routes.js";
import { postsRoutes } from "./posts/posts.routes.js";
import { reviewsAdminRoutes } from "./reviews/reviews.admin.routes.js";
import { reviewsEmbedRoutes, reviewsRoutes } from "./reviews/reviews.routes.js";
import { loadAppSecret } from "./settings/app-secret.js";
import { createViewEngine } from "./views/engine.js";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const VIEWS_DIR = path.join(PACKAGE_ROOT, "views");
const require = createRequire(import.meta.url);

const OptionsSchema = z.object({
  prisma: z.custom<Db>((v) => typeof v === "object" && v !== null && "$transaction" in v, { message: "a PrismaClient (see openDatabase)" }),
  shopName: z.string().trim().min(1).max(80).default("Bazaarche"),
  currency: z.string().regex(/^[A-Z]{3}$/, "a 3-letter ISO 4217 code").default("USD"),
  locale: z.enum(LOCALES).default("en"),
  publicUrl: z.url().transform((u) => u.replace(/\/+$/, "")).optional(),
  secret: z.string().min(32, "at least 32 characters").optional(),
  uploadsDir: z.string().min(1).default(path.resolve("data/uploads")),
  logger: z.custom<Logger>((v) => typeof v === "object" && v !== null && "info" in v).optional(),
  now: z.custom<() => Date>((v) => typeof v === "function").optional(),
  loginRateLimit: z.object({ windowMs: z.number().int().positive(), limit: z.number().int().positive() }).default({ windowMs: 15 * 60_000, limit: 10 }),
  /** Wrong coupon codes allowed per address (and per follower) per 15 minutes. */
  couponAttemptsPer15Min: z.number().int().positive().default(10),
  /** Follow / follower sign-in submissions (each sends an email) per address per 15 minutes. */
  followSubmitsPer15Min: z.number().int().positive().default(5),
  trustProxy: z.union([z.boolean(), z.number(), z.string()]).default(false),
  /** Raw analytics events are kept `retentionDays`, daily roll-ups `rollupRetentionDays` (the longest dashboard range). */
  analytics: z
    .object({ retentionDays: z.number().int().min(1).max(3650).default(90), rollupRetentionDays: z.number().int().min(1).max(3650).default(730) })
    .refine((a) => a.rollupRetentionDays >= a.retentionDays, { message: "rollupRetentionDays must be at least retentionDays", path: ["rollupRetentionDays"] })
    .default({ retentionDays: 90, rollupRetentionDays: 730 }),
  payments: z.custom<PaymentGateway>((v) => typeof v === "object" && v !== null && "createCheckout" in v, { message: "a PaymentGateway (StripeGateway or LocalGateway)" }).optional(),
  checkout: z
    .object({
      // Stripe Checkout sessions live 30 minutes to 24 hours.
      holdMinutes: z.number().int().min(30).max(24 * 60).default(30),
      shippingOptions: z
        .array(z.object({ id: z.string().regex(/^[a-z0-9_-]{1,32}$/), label: z.string().min(1).max(60), amountMinor: z.number().int().min(0) }))
        .min(1)
        .max(5)
        .default([
          { id: "standard", label: "Standard shipping", amountMinor: 500 },
          { id: "express", label: "Express shipping", amountMinor: 1500 },
        ]),
    })
    .default({ holdMinutes: 30, shippingOptions: [{ id: "standard", label: "Standard shipping", amountMinor: 500 }, { id: "express", label: "Express shipping", amountMinor: 1500 }] }),
});

export type StorefrontOptions = z.input<typeof OptionsSchema>;

export type Storefront = Express & {
  bazaarche: {
    deps: Deps;
    /** Marks the storefront as draining: /ready answers 503 from now on. */
    beginShutdown(): void;
  };
};

/**
 * Builds the whole shop as an Express sub-app. Mount it anywhere:
 *   hostApp.use("/shop", createStorefront({ prisma }))
 * It carries its own view engine, settings, middleware and error handler, and
 * every URL it renders is relative to where it is mounted.
 */
export function createStorefront(options: StorefrontOptions): Storefront {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`createStorefront: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const o = parsed.data;
  const logger = o.logger ?? pino({ level: "info" });
  const deps: Deps = {
    db: o.prisma,
    now: o.now ?? (() => new Date()),
    shop: { name: o.shopName, currency: o.currency, locale: o.locale, publicUrl: o.publicUrl },
    logger,
    uploadsDir: o.uploadsDir,
    payments: o.payments ?? new LocalGateway(),
    checkout: o.checkout,
    analytics: o.analytics,
    appSecret: async () => (secret ??= await loadAppSecret(o.prisma)),
  };
  let draining = false;
  let secret = o.secret;
  // Read before the first request, so no page pays for it (a database not migrated yet is read later).
  void shopLogoPath(deps).catch(() => undefined);

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", o.trustProxy);
  app.engine("hbs", createViewEngine(VIEWS_DIR));
  app.set("view engine", "hbs");
  app.set("views", VIEWS_DIR);
  app.locals.shopName = o.shopName;

  app.use(requestLog(logger));
  app.use(securityHeaders());
  app.use(baseLocals(deps));
  app.use("/assets/fonts/vazirmatn.woff2", (_req, res) => {
    res.sendFile(require.resolve("vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2"), { maxAge: "365d", immutable: true });
  });
  app.use("/assets", express.static(path.join(VIEWS_DIR, "static"), { maxAge: "1h", index: false }));
  app.use("/media", crossOriginMedia, mediaRoutes(o.uploadsDir));
  app.use(healthRoutes(deps, { draining: () => draining }));
  // The embeddable gallery: before the cookie parser, CSRF and language cookie, so it sets no cookie.
  app.use(embedRoutes(deps, { viewsDir: VIEWS_DIR }));
  app.use(reviewsEmbedRoutes(deps, { viewsDir: VIEWS_DIR }));
  // Before the body parsers: the signature is over the raw bytes.
  app.use(stripeWebhookRoutes(deps));

  // Body parsers come after anything that needs the raw body (payment webhooks).
  app.use(cookieParser());
  app.use(express.json({ limit: "1mb" }));
  app.use(express.urlencoded({ extended: false, limit: "1mb" }));
  app.use(localeMiddleware(o.locale));

  // Bearer-token API: no cookies, so no CSRF check; JSON errors.
  // Platform feeds: GET-only, token in the query string, no cookies set.
  app.use("/feeds", feedRoutes(deps));
  app.use("/api/v1/feeds", requireApiToken(deps), feedApiRoutes(deps));
  app.use("/api/v1", requireApiToken(deps), apiRoutes(deps));
  // Tracked links /l/:code: GET only, so before the CSRF check (and its cookie).
  app.use(linksRoutes(deps));

  app.use(async (_req, _res, next) => {
    await deps.appSecret();
    next();
  });
  app.use(csrfProtection(() => secret!));
  app.use("/admin", loadAdmin(deps), authRoutes(deps, o.loginRateLimit));
  app.use("/admin", requireAdmin, adminRoutes(deps));
  app.use("/admin", requireAdmin, analyticsAdminRoutes(deps));
  // Each object's figures and funnel on its admin page (the page includes the analytics/object-panel partial).
  app.use("/admin/posts", requireAdmin, objectPanel(deps, "post"));
  app.use("/admin/links", requireAdmin, objectPanel(deps, "link"));
  app.use("/admin/coupons", requireAdmin, objectPanel(deps, "coupon"));
  app.use("/admin/products", requireAdmin, objectPanel(deps, "product"));
  app.use("/admin/products", requireAdmin, csvAdminRoutes(deps));
  app.use("/admin", requireAdmin, feedAdminRoutes(deps));
  app.use("/admin/products", requireAdmin, catalogAdminRoutes(deps));
  app.use("/admin/coupons", requireAdmin, couponAdminRoutes(deps));
  app.use("/admin/followers", requireAdmin, followerAdminRoutes(deps));
  app.use("/admin/outbox", requireAdmin, outboxAdminRoutes(deps));
  app.use("/admin/orders", requireAdmin, ordersAdminRoutes(deps));
  app.use("/admin/posts", requireAdmin, postsAdminRoutes(deps));
  app.use("/admin/links", requireAdmin, linksAdminRoutes(deps));
  app.use("/admin", requireAdmin, reviewsAdminRoutes(deps));
  app.use(cartCount(deps));
  app.use(followerRoutes(deps, { submitsPer15Min: o.followSubmitsPer15Min }));
  app.use(couponCartRoutes(deps, { attemptsPer15Min: o.couponAttemptsPer15Min }));
  // Orders are credited to the last tracked-link click (7 days), see src/links/README.md.
  app.use(checkoutRoutes(deps, { attribution: (req) => readAttribution(deps, req) }));
  app.use(catalogRoutes(deps));
  app.use(postsRoutes(deps));
  app.use(reviewsRoutes(deps));

  app.use(notFound);
  app.use(errorHandler);

  return Object.assign(app, {
    bazaarche: {
      deps,
      beginShutdown() {
        draining = true;
      },
    },
  });
}

/** The header's mini-cart: item count on every HTML page view. */
function cartCount(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    if (req.method === "GET") res.locals.cartCount = await countCartItems(deps, req.cookies?.[CART_COOKIE]);
    next();
  };
}

/** Values every template can use: mount path, absolute base, language links, the shop's logo. */
function baseLocals(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    res.locals.shopLogo = req.method === "GET" ? await shopLogoPath(deps) : null;
    res.locals.base = req.baseUrl;
    res.locals.publicBase = publicBaseFor(req, deps.shop.publicUrl);
    res.locals.requestPath = req.path;
    const url = new URL(req.originalUrl, "http://x");
    url.searchParams.delete("lang");
    const link = (lang: string) => {
      const u = new URL(url);
      u.searchParams.set("lang", lang);
      return `${u.pathname}${u.search}`;
    };
    res.locals.langLinks = { en: link("en"), fa: link("fa") };
    next();
  };
}
