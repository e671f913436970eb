import { createPageCache, PAGE_CACHE_DEFAULTS, type PageCache } from "./pages/page-cache.js";
import { sessionRoutes } from "./pages/pages.routes.js";
import path from "node:path";
import cookieParser from "cookie-parser";
import express, { type Express, type RequestHandler } from "express";
import { pino, type Logger } from "pino";
import { z } from "zod";
import { adminRoutes } from "./admin/admin.routes.js";
import { analyticsAdminRoutes, objectPanel } from "./analytics/analytics.routes.js";
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
import { assetRoutes } from "./http/assets.js";
import { compressResponses } from "./http/compression.js";
import { createRateLimitBackend } from "./http/rate-limit-store.js";
import { securityHeaders } from "./http/security.js";
import { utf8BodyCheck, wellFormedBody, wellFormedUrl } from "./http/well-formed.js";
import { publicBaseFor } from "./http/urls.js";
import { LOCALES } from "./i18n/translate.js";
import { linksAdminRoutes } from "./links/links.admin.routes.js";
import { linksRoutes } from "./links/links.routes.js";
import { LocalFileStorage, type FileStorage } from "./media/file-storage.js";
import { liveAdminRoutes } from "./live/live.admin.routes.js";
import { liveApiRoutes } from "./live/live.api.routes.js";
import { liveClaimRoutes, liveRoutes, liveStreamRoutes } from "./live/live.routes.js";
import { LiveStreams } from "./live/live.stream.js";
import { mediaPath } from "./media/media.paths.js";
import { mediaRoutes } from "./media/media.routes.js";
import { mailFrom } from "./config.js";
import { jobsAdminRoutes } from "./jobs/jobs.admin.routes.js";
import { outboxApiRoutes } from "./mail/outbox.api.routes.js";
import { DELIVERY_DEFAULTS, type MailSender } from "./mail/sender.js";
import { unsubscribeRoutes } from "./mail/unsubscribe.routes.js";
import { notificationsAdminRoutes } from "./notifications/notifications.admin.routes.js";
import { LocalGateway } from "./payments/local-gateway.js";
import type { PaymentGateway } from "./payments/gateway.js";
import { InProcessBroadcaster, type Broadcaster } from "./realtime/broadcaster.js";
import { crossOriginMedia, embedRoutes } from "./posts/embed.js";
import { postsAdminRoutes } from "./posts/posts.admin.routes.js";
import { postsRoutes } from "./posts/posts.routes.js";
import { reviewsAdminRoutes } from "./reviews/reviews.admin.routes.js";
import { reviewsEmbedRoutes, reviewsRoutes } from "./reviews/reviews.routes.js";
import { VIEWS_DIR } from "./package-root.js";
import { loadAppSecret } from "./settings/app-secret.js";
import { shopAdminRoutes } from "./shop/shop.admin.routes.js";
import { getShopProfile, shopForPage } from "./shop/shop.service.js";
import { createViewEngine } from "./views/engine.js";

const DEFAULT_SHIPPING = [
  { id: "standard", label: "Standard shipping", labelFa: "ارسال عادی", amountMinor: 500 },
  { id: "express", label: "Express shipping", labelFa: "ارسال سریع", amountMinor: 1500 },
];

const OptionsSchema = z.object({
  prisma: z.custom<Db>((v) => typeof v === "object" && v !== null && "$transaction" in v, { message: "a PrismaClient (see openDatabase)" }),
  shopName: z.string().trim().min(1).max(80).default("Bazaarche"),
  currency: z.string().regex(/^[A-Z]{3}$/, "a 3-letter ISO 4217 code").default("USD"),
  locale: z.enum(LOCALES).default("en"),
  publicUrl: z.url().transform((u) => u.replace(/\/+$/, "")).optional(),
  secret: z.string().min(32, "at least 32 characters").optional(),
  uploadsDir: z.string().min(1).default(path.resolve("data/uploads")),
  /** Image storage; default: a LocalFileStorage in uploadsDir. Pass an S3FileStorage to share images across instances. */
  files: z.custom<FileStorage>((v) => typeof v === "object" && v !== null && "put" in v && "get" in v, { message: "a FileStorage (LocalFileStorage or S3FileStorage)" }).optional(),
  logger: z.custom<Logger>((v) => typeof v === "object" && v !== null && "info" in v).optional(),
  now: z.custom<() => Date>((v) => typeof v === "function").optional(),
  loginRateLimit: z.object({ windowMs: z.number().int().positive(), limit: z.number().int().positive() }).default({ windowMs: 15 * 60_000, limit: 10 }),
  /** Wrong coupon codes allowed per address (and per follower) per 15 minutes. */
  couponAttemptsPer15Min: z.number().int().positive().default(10),
  /** Follow / follower sign-in submissions (each sends an email) per address per 15 minutes. */
  followSubmitsPer15Min: z.number().int().positive().default(5),
  trustProxy: z.union([z.boolean(), z.number(), z.string()]).default(false),
  /** gzip/brotli for text responses; false when a proxy or CDN in front already compresses. */
  compression: z.boolean().default(true),
  /** Rate-limit counters: "memory" (one process), "database" (shared by instances) or { redisUrl }. */
  rateLimitStore: z
    .union([z.literal("memory"), z.literal("database"), z.object({ redisUrl: z.string().regex(/^(rediss?|unix):\/\/.+/, "a redis://, rediss:// or unix:// URL") })])
    .default("memory"),
  /** Sending email (SMTP): without it email stays in the outbox, readable in the admin. Needs publicUrl. */
  mail: z
    .object({
      sender: z.custom<MailSender>((v) => typeof v === "object" && v !== null && "send" in v, { message: "a MailSender (see createSmtpSender)" }),
      from: mailFrom,
      maxAttempts: z.number().int().min(1).max(50).default(DELIVERY_DEFAULTS.maxAttempts),
      batchSize: z.number().int().min(1).max(500).default(DELIVERY_DEFAULTS.batchSize),
      concurrency: z.number().int().min(1).max(50).default(DELIVERY_DEFAULTS.concurrency),
      leaseMs: z.number().int().min(1000).default(DELIVERY_DEFAULTS.leaseMs),
    })
    .optional(),
  /**
   * Anonymous product, post and gallery pages: reused from memory for ttlMs while what they show is unchanged,
   * and marked cacheable by a CDN for maxAgeSeconds (+ staleSeconds). false: rendered every time, still CDN-cacheable.
   */
  pageCache: z
    .union([
      z.literal(false),
      z.object({
        ttlMs: z.number().int().min(0).max(60_000).default(PAGE_CACHE_DEFAULTS.ttlMs),
        maxAgeSeconds: z.number().int().min(0).max(3600).default(PAGE_CACHE_DEFAULTS.maxAgeSeconds),
        staleSeconds: z.number().int().min(0).max(86_400).default(PAGE_CACHE_DEFAULTS.staleSeconds),
        maxEntries: z.number().int().min(1).max(100_000).default(PAGE_CACHE_DEFAULTS.maxEntries),
      }),
    ])
    .default(PAGE_CACHE_DEFAULTS),
  /** Live-show streams: heartbeat interval, the unsent bytes after which a non-reading viewer is dropped, streams per instance. */
  liveStreams: z.object({ heartbeatMs: z.number().int().min(50).optional(), maxBufferedBytes: z.number().int().min(1024).optional(), maxStreams: z.number().int().min(1).optional(), coalesceMs: z.number().int().min(0).max(1000).optional() }).default({}),
  broadcaster: z.custom<Broadcaster>((v) => typeof v === "object" && v !== null && "publish" in v && "subscribe" in v, { message: "a Broadcaster (publish, subscribe)" }).optional(),
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
        .array(z.object({ id: z.string().regex(/^[a-z0-9_-]{1,32}$/), label: z.string().min(1).max(60), labelFa: z.string().min(1).max(60).optional(), amountMinor: z.number().int().min(0) }))
        .min(1)
        .max(5)
        .default(DEFAULT_SHIPPING),
    })
    .default({ holdMinutes: 30, shippingOptions: DEFAULT_SHIPPING }),
});

export type StorefrontOptions = z.input<typeof OptionsSchema>;
const Options = OptionsSchema.refine((o) => !o.mail || !!o.publicUrl, { path: ["publicUrl"], message: "required with mail: every link in an email is built from it, never from a request's Host header" });

export type Storefront = Express & {
  bazaarche: {
    deps: Deps;
    /** Open live-show streams of this instance (viewer counts, shutdown). */
    live: LiveStreams;
    /** Renders and memory hits of the page cache. */
    pageCache: PageCache["stats"];
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
  const parsed = Options.safeParse(options);
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
    files: o.files ?? new LocalFileStorage(o.uploadsDir),
    payments: o.payments ?? new LocalGateway(),
    checkout: o.checkout,
    mail: o.mail,
    broadcaster: o.broadcaster ?? new InProcessBroadcaster(),
    analytics: o.analytics,
    appSecret: async () => (secret ??= await loadAppSecret(o.prisma)),
    rateLimits: createRateLimitBackend(o.rateLimitStore, { db: o.prisma, now: () => deps.now() }),
  };
  let draining = false;
  let secret = o.secret;
  const live = new LiveStreams(deps, o.liveStreams);

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", o.trustProxy);
  app.engine("hbs", createViewEngine(VIEWS_DIR));
  app.set("view engine", "hbs");
  app.set("views", VIEWS_DIR);
  app.locals.shopName = o.shopName;

  app.use(requestLog(logger));
  app.use(securityHeaders());
  // Escapes in the path and query string must decode to UTF-8 (400 naming the field), before any route reads them.
  app.use(wellFormedUrl());
  app.use(baseLocals(deps));
  // Anonymous product, post and gallery pages from memory (compressed once per
  // version), before compression, cookies, body parsers, CSRF and the cart count.
  const pageCache = createPageCache(deps, o.pageCache, o.locale, o.compression);
  app.use(pageCache.middleware);
  // Before everything else that writes a body; off when a proxy in front compresses.
  if (o.compression) app.use(compressResponses());
  app.use("/assets", assetRoutes());
  app.use("/media", crossOriginMedia, mediaRoutes(deps.files));
  app.use(healthRoutes(deps, { draining: () => draining }));
  // The embeddable gallery: before the cookie parser, CSRF and language cookie, so it sets no cookie.
  app.use(embedRoutes(deps, { viewsDir: VIEWS_DIR }));
  app.use(reviewsEmbedRoutes(deps, { viewsDir: VIEWS_DIR }));
  // Before the body parsers: the signature is over the raw bytes.
  app.use(stripeWebhookRoutes(deps));

  // Body parsers come after anything that needs the raw body (payment webhooks).
  app.use(cookieParser());
  app.use(express.json({ limit: "1mb", verify: utf8BodyCheck("json") }));
  app.use(express.urlencoded({ extended: false, limit: "1mb", verify: utf8BodyCheck("urlencoded") }));
  // JSON may spell a lone surrogate as "\ud800": refused here, before any handler.
  app.use(wellFormedBody());
  app.use(localeMiddleware(o.locale));
  const loadSecret: RequestHandler = async (_req, _res, next) => {
    await deps.appSecret();
    next();
  };
  const csrf = csrfProtection(() => secret!);
  // Live claims in JSON (a crowd within a second): before the page locals and every router below, with the same CSRF check.
  app.use(liveClaimRoutes(deps, { csrf: [loadSecret, csrf] }));
  app.use(shopLocals(deps));

  // Bearer-token API: no cookies, so no CSRF check; JSON errors.
  // Platform feeds: GET-only, token in the query string, no cookies set.
  app.use("/feeds", feedRoutes(deps));
  app.use("/api/v1/feeds", requireApiToken(deps), feedApiRoutes(deps));
  app.use("/api/v1/outbox", requireApiToken(deps), outboxApiRoutes(deps));
  app.use("/api/v1/live", requireApiToken(deps), liveApiRoutes(deps, live));
  app.use("/api/v1", requireApiToken(deps), apiRoutes(deps));
  // Tracked links /l/:code: GET only, so before the CSRF check (and its cookie).
  app.use(linksRoutes(deps));
  // One-click unsubscribe (RFC 8058): mail clients POST without cookies, so
  // before the CSRF check; the random token in the path is the credential.
  app.use(unsubscribeRoutes(deps));
  // Live-show event streams: GET only and long-lived, so before the CSRF cookie and the cart count.
  app.use(liveStreamRoutes(deps, live));

  app.use(loadSecret);
  app.use(csrf);
  app.use(sessionRoutes());
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
  app.use("/admin/jobs", requireAdmin, jobsAdminRoutes(deps));
  app.use("/admin/settings/notifications", requireAdmin, notificationsAdminRoutes(deps));
  app.use("/admin/orders", requireAdmin, ordersAdminRoutes(deps));
  app.use("/admin/posts", requireAdmin, postsAdminRoutes(deps));
  app.use("/admin/links", requireAdmin, linksAdminRoutes(deps));
  app.use("/admin", requireAdmin, reviewsAdminRoutes(deps));
  app.use("/admin", requireAdmin, shopAdminRoutes(deps));
  app.use("/admin/live", requireAdmin, liveAdminRoutes(deps, live));
  app.use(cartCount(deps));
  app.use(followerRoutes(deps, { submitsPer15Min: o.followSubmitsPer15Min }));
  app.use(couponCartRoutes(deps, { attemptsPer15Min: o.couponAttemptsPer15Min }));
  // Orders are credited to the last tracked-link click (7 days), see src/links/README.md.
  app.use(checkoutRoutes(deps, { attribution: (req) => readAttribution(deps, req) }));
  app.use(liveRoutes(deps, { attribution: (req) => readAttribution(deps, req) }));
  app.use(catalogRoutes(deps));
  app.use(postsRoutes(deps));
  app.use(reviewsRoutes(deps));

  app.use(notFound);
  app.use(errorHandler);

  return Object.assign(app, {
    bazaarche: {
      deps,
      live,
      pageCache: pageCache.stats,
      beginShutdown() {
        draining = true;
        // Streams never finish on their own; browsers reconnect to another instance.
        live.close();
      },
    },
  });
}

/**
 * The header's mini-cart: the item count, read when a page is rendered, for
 * every method. A page rendered in answer to a POST (a refused discount code,
 * a refused quantity) shows the cart as it is, not "Cart (0)".
 */
function cartCount(deps: Deps): RequestHandler {
  return (req, res, next) => {
    const render = res.render.bind(res) as (view: string, options?: object, callback?: (err: Error, html: string) => void) => void;
    res.render = ((view: string, options?: object | ((err: Error, html: string) => void), callback?: (err: Error, html: string) => void) => {
      const opts = typeof options === "function" ? {} : (options ?? {});
      const cb = (typeof options === "function" ? options : callback) as ((err: Error, html: string) => void) | undefined;
      if ((opts as { layout?: string }).layout === "admin") return render(view, opts, cb);
      countCartItems(deps, req.cookies?.[CART_COOKIE]).then(
        (count) => {
          res.locals.cartCount = count;
          render(view, opts, cb);
        },
        (err: unknown) => next(err),
      );
    }) as typeof res.render;
    next();
  };
}

/**
 * The shop's name, logo, bio and social links as set in Admin → Shop settings
 * (cached; see getShopProfile), for every page's header and the home page.
 */
function shopLocals(deps: Deps): RequestHandler {
  return async (_req, res, next) => {
    const profile = await getShopProfile(deps);
    res.locals.shopProfile = profile;
    res.locals.shop = shopForPage(deps, profile, res.locals.locale);
    res.locals.shopLogo = profile.logo ? mediaPath(profile.logo.storageKey, "square") : null;
    res.locals.shopName = deps.shop.name;
    next();
  };
}

/** Values every template can use: mount path, absolute base, language links, the shop's logo. */
function baseLocals(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    res.locals.base = req.baseUrl;
    res.locals.publicBase = publicBaseFor(req, deps.shop.publicUrl);
    // Pages say an email was sent only when the shop really sends email.
    res.locals.emailSends = !!deps.mail;
    res.locals.requestPath = req.path;
    // Worked out when a page renders (a page answered from memory, JSON and files never need it).
    let langLinks: { en: string; fa: string } | undefined;
    Object.defineProperty(res.locals, "langLinks", {
      enumerable: true,
      configurable: true,
      get() {
        if (!langLinks) {
          const url = new URL(req.originalUrl, "http://x");
          url.searchParams.delete("lang");
          const link = (lang: string) => {
            const u = new URL(url);
            u.searchParams.set("lang", lang);
            return `${u.pathname}${u.search}`;
          };
          langLinks = { en: link("en"), fa: link("fa") };
        }
        return langLinks;
      },
      set(value: { en: string; fa: string }) {
        langLinks = value;
      },
    });
    next();
  };
}
