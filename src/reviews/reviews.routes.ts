import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Router, type Request, type RequestHandler, type Response } from "express";
import type { ZodError } from "zod";
import type { Deps } from "../deps.js";
import { cookieOptions } from "../http/cookies.js";
import { AppError } from "../http/errors.js";
import { limiter } from "../http/rate-limit.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { publicBaseFor, urlFor } from "../http/urls.js";
import { validate, zodDetails, zodMessage } from "../http/validate.js";
import { wantsJson } from "../http/wants-json.js";
import { formatNumber } from "../i18n/format.js";
import { directionOf, translate, type Locale } from "../i18n/translate.js";
import { MAX_IMAGE_BYTES } from "../media/media.service.js";
import { askQuestion } from "./questions.service.js";
import { writeGoogleReviewFeed } from "./reviews.feed.js";
import { readPublishedReviews } from "./reviews.queries.js";
import { EmbedQuery, IdParams, QuestionBody, REVIEW_LIMITS, ReviewBody, SlugParams, TokenParams } from "./reviews.schema.js";
import { submitReview, toPublicReviewJson, voteReviewHelpful, type ReviewOrigin } from "./reviews.service.js";
import { getReviewRequestByToken, suggestedDisplayName } from "./requests.service.js";
import { getReviewSettings } from "./settings.js";
import { describeSummary, listTopRatedProducts } from "./summary.js";

const VOTER_COOKIE = "bz_voter";

/** Per-IP limits on public writes; a vote is also unique per visitor (see voteReviewHelpful). */
export const PUBLIC_LIMITS = {
  submit: { windowMs: 15 * 60_000, limit: 10 },
  vote: { windowMs: 10 * 60_000, limit: 30 },
  ask: { windowMs: 15 * 60_000, limit: 10 },
};

type FormErrors = Record<string, string>;
const errorsOf = (err: ZodError): FormErrors => Object.fromEntries(zodDetails(err).map((d) => [d.field, d.message]));

/**
 * Shopper-facing review pages: write a review (on the web or through a
 * review-request link), vote helpful, ask a question, the top-rated list.
 * Mounted after the CSRF check; every POST carries the form's token.
 */
export function reviewsRoutes(deps: Deps) {
  const router = Router();
  const submitLimit = limiter(deps, "review-submit", PUBLIC_LIMITS.submit, "Too many reviews from this address.");
  const voteLimit = limiter(deps, "review-vote", PUBLIC_LIMITS.vote, "Too many votes from this address.");
  const askLimit = limiter(deps, "question-ask", PUBLIC_LIMITS.ask, "Too many questions from this address.");
  // One more than allowed reaches submitReview, whose refusal names the "photos" field
  // (multer's own count error cannot say which field was over).
  const upload = multipartForm({ fields: [{ name: "photos", maxCount: REVIEW_LIMITS.photos + 1 }], maxFileBytes: MAX_IMAGE_BYTES });

  // The product a form is about, with its title in the page's language.
  const activeProduct = async (slug: string, locale: Locale) => {
    const product = await deps.db.product.findUnique({
      where: { slug },
      select: {
        id: true, slug: true, title: true, status: true,
        translations: { where: { locale }, select: { title: true } },
        variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }], select: { id: true, option1: true, option2: true, option3: true, sku: true } },
      },
    });
    if (!product || product.status !== "active") throw AppError.notFound("product");
    return { ...product, title: product.translations[0]?.title || product.title };
  };
  const uploadAction = (req: Request, res: Response, path: string) => `${urlFor(req, path)}?_csrf=${encodeURIComponent(res.locals.csrfToken as string)}`;

  router.get("/p/:slug/reviews/new", validate({ params: SlugParams }), async (req, res) => {
    const product = await activeProduct(req.valid.params.slug, res.locals.locale as Locale);
    const settings = await getReviewSettings(deps.db);
    renderWriteForm(req, res, { product, verifiedOnly: settings.whoCanReview === "verified", values: {}, errors: {} });
  });

  router.post("/p/:slug/reviews", submitLimit, validate({ params: SlugParams }), upload, async (req, res) => {
    const product = await activeProduct(req.valid.params.slug, res.locals.locale as Locale);
    const photos = filesOf(req, "photos").map((f) => f.buffer);
    const parsed = ReviewBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      if (wantsJson(req)) throw AppError.validation(zodMessage(parsed.error, "Invalid review"), zodDetails(parsed.error));
      return renderWriteForm(req, res.status(400), { product, verifiedOnly: false, values: req.body as Record<string, unknown>, errors: errorsOf(parsed.error) });
    }
    try {
      const saved = await submitReview(deps, { productId: product.id, review: parsed.data, photos, locale: res.locals.locale as Locale, origin: { kind: "web" } });
      if (wantsJson(req)) return void res.status(201).json({ data: { id: saved.id, status: saved.status } });
      res.redirect(303, `${urlFor(req, `/p/${product.slug}`)}?review=${saved.status}#reviews`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req)) throw err;
      renderWriteForm(req, res.status(err.status), { product, verifiedOnly: err.code === "reviews_verified_only", values: req.body as Record<string, unknown>, errors: fieldErrors(err) });
    }
  });

  function renderWriteForm(
    req: Request,
    res: Response,
    view: { product: Awaited<ReturnType<typeof activeProduct>>; verifiedOnly: boolean; values: Record<string, unknown>; errors: FormErrors },
  ) {
    const t = res.locals.t as (k: string, v?: Record<string, unknown>) => string;
    res.render("reviews/write", {
      title: t("reviews.write.title", { product: view.product.title }),
      product: view.product,
      verifiedOnly: view.verifiedOnly,
      action: uploadAction(req, res, `/p/${view.product.slug}/reviews`),
      forms: [reviewFormModel({ idPrefix: "review", values: view.values, errors: view.errors, variants: view.product.variants.length > 1 ? view.product.variants : [] })],
      limits: REVIEW_LIMITS,
      errors: Object.keys(view.errors).length > 0 ? Object.values(view.errors) : null,
    });
  }

  router.get("/reviews/write/:token", validate({ params: TokenParams }), async (req, res) => {
    const request = await getReviewRequestByToken(deps, { token: req.valid.params.token });
    renderRequestForm(req, res, { token: req.valid.params.token, request, values: {}, errors: {}, lineId: null, done: req.query.done === "1" });
  });

  router.post("/reviews/write/:token", submitLimit, validate({ params: TokenParams }), upload, async (req, res) => {
    const token = req.valid.params.token;
    const request = await getReviewRequestByToken(deps, { token });
    const photos = filesOf(req, "photos").map((f) => f.buffer);
    const parsed = ReviewBody.safeParse(req.body ?? {});
    const lineId = typeof (req.body as Record<string, unknown>)?.orderLineId === "string" ? ((req.body as Record<string, string>).orderLineId ?? null) : null;
    if (!parsed.success) {
      if (wantsJson(req)) throw AppError.validation(zodMessage(parsed.error, "Invalid review"), zodDetails(parsed.error));
      return renderRequestForm(req, res.status(400), { token, request, values: req.body as Record<string, unknown>, errors: errorsOf(parsed.error), lineId });
    }
    const line = request.lines.find((l) => l.id === parsed.data.orderLineId);
    if (!line || !line.productId) throw AppError.validation("orderLineId: not an item of this order.", [{ field: "orderLineId", message: "not an item of this order" }]);
    const settings = await getReviewSettings(deps.db);
    const origin: ReviewOrigin = { kind: "request", requestId: request.id, orderId: request.orderId, orderLineId: line.id, variantId: line.variantId, incentive: settings.incentive !== "" };
    try {
      const saved = await submitReview(deps, { productId: line.productId, review: { ...parsed.data, email: parsed.data.email ?? request.email ?? undefined }, photos, locale: res.locals.locale as Locale, origin });
      if (wantsJson(req)) return void res.status(201).json({ data: { id: saved.id, status: saved.status, verifiedBuyer: true } });
      res.redirect(303, `${urlFor(req, `/reviews/write/${token}`)}?done=1`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req)) throw err;
      renderRequestForm(req, res.status(err.status), { token, request, values: req.body as Record<string, unknown>, errors: fieldErrors(err), lineId: line.id });
    }
  });

  function renderRequestForm(
    req: Request,
    res: Response,
    view: { token: string; request: Awaited<ReturnType<typeof getReviewRequestByToken>>; values: Record<string, unknown>; errors: FormErrors; lineId: string | null; done?: boolean },
  ) {
    const t = res.locals.t as (k: string, v?: Record<string, unknown>) => string;
    const name = suggestedDisplayName(view.request.customerName);
    res.render("reviews/request", {
      title: t("reviews.request.pageTitle", { number: view.request.orderNumber }),
      request: view.request,
      done: view.done,
      action: uploadAction(req, res, `/reviews/write/${view.token}`),
      limits: REVIEW_LIMITS,
      errors: Object.keys(view.errors).length > 0 ? Object.values(view.errors) : null,
      lines: view.request.lines.map((l) => ({
        ...l,
        form:
          l.reviewed || !l.productId
            ? null
            : reviewFormModel({
                idPrefix: `line-${l.id}`,
                values: view.lineId === l.id ? view.values : { displayName: name },
                errors: view.lineId === l.id ? view.errors : {},
                variants: [],
              }),
      })),
    });
  }

  router.get("/p/:slug/questions/new", validate({ params: SlugParams }), async (req, res) => {
    const product = await activeProduct(req.valid.params.slug, res.locals.locale as Locale);
    renderQuestionForm(res, { product, values: {}, errors: {} });
  });

  router.post("/p/:slug/questions", askLimit, validate({ params: SlugParams }), async (req, res) => {
    const product = await activeProduct(req.valid.params.slug, res.locals.locale as Locale);
    const parsed = QuestionBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      if (wantsJson(req)) throw AppError.validation(zodMessage(parsed.error, "Invalid question"), zodDetails(parsed.error));
      return renderQuestionForm(res.status(400), { product, values: req.body as Record<string, unknown>, errors: errorsOf(parsed.error) });
    }
    const saved = await askQuestion(deps, { productId: product.id, question: parsed.data, locale: res.locals.locale as Locale });
    if (wantsJson(req)) return void res.status(201).json({ data: saved });
    res.redirect(303, `${urlFor(req, `/p/${product.slug}`)}?question=asked#questions`);
  });

  function renderQuestionForm(res: Response, view: { product: Awaited<ReturnType<typeof activeProduct>>; values: Record<string, unknown>; errors: FormErrors }) {
    const t = res.locals.t as (k: string, v?: Record<string, unknown>) => string;
    const v = (k: string) => (typeof view.values[k] === "string" ? (view.values[k] as string) : "");
    res.render("reviews/question", {
      title: t("questions.ask.title", { product: view.product.title }),
      product: view.product,
      v: { body: v("body"), askerName: v("askerName"), email: v("email") },
      fieldErrors: view.errors,
      errors: Object.keys(view.errors).length > 0 ? Object.values(view.errors) : null,
      limits: REVIEW_LIMITS,
    });
  }

  router.post("/reviews/:id/helpful", voteLimit, validate({ params: IdParams }), async (req, res) => {
    // The visitor is this browser's own random cookie; the per-IP limit above
    // bounds what a script that throws its cookies away can do.
    let voter = req.cookies?.[VOTER_COOKIE] as string | undefined;
    if (!voter || !/^[A-Za-z0-9_-]{32}$/.test(voter)) {
      voter = randomBytes(24).toString("base64url");
      res.cookie(VOTER_COOKIE, voter, cookieOptions(req, { maxAge: 365 * 24 * 3600 * 1000 }));
    }
    const voterKey = createHash("sha256").update(`voter:${voter}`).digest("hex");
    const result = await voteReviewHelpful(deps, { reviewId: req.valid.params.id, voterKey });
    if (wantsJson(req)) return void res.json({ data: { helpfulCount: result.helpfulCount } });
    res.redirect(303, `${urlFor(req, `/p/${result.productSlug}`)}?voted=1#review-${req.valid.params.id}`);
  });

  router.get("/top-rated", async (req, res) => {
    const slug = typeof req.query.collection === "string" ? req.query.collection : undefined;
    const collection = slug ? await deps.db.collection.findUnique({ where: { slug } }) : null;
    if (slug && !collection) throw AppError.notFound("collection");
    const ranked = await listTopRatedProducts(deps, { collectionId: collection?.id, limit: 24 });
    const products = await deps.db.product.findMany({
      where: { id: { in: ranked.map((r) => r.productId) } },
      select: { id: true, slug: true, title: true, translations: { where: { locale: res.locals.locale as string }, select: { title: true } }, images: { orderBy: [{ position: "asc" }, { id: "asc" }], take: 1, include: { media: true } } },
    });
    const collections = await deps.db.collection.findMany({ orderBy: [{ position: "asc" }, { id: "asc" }], select: { slug: true, title: true } });
    const t = res.locals.t as (k: string, v?: Record<string, unknown>) => string;
    res.render("reviews/top-rated", {
      title: collection ? t("reviews.top.inCollection", { collection: collection.title }) : t("reviews.top.title"),
      collection,
      collections: collections.map((c) => ({ ...c, current: c.slug === collection?.slug })),
      items: ranked.map((r, i) => {
        const p = products.find((x) => x.id === r.productId)!;
        const image = p.images[0];
        return {
          rank: i + 1,
          slug: p.slug,
          title: p.translations[0]?.title || p.title,
          image: image ? { storageKey: image.media.storageKey, alt: image.alt || image.media.alt, width: image.media.width, height: image.media.height } : null,
          count: r.count,
          average: Math.round((r.sum / r.count) * 10) / 10,
          score: Math.round(r.score * 100) / 100,
        };
      }),
    });
  });

  return router;
}

/** The fields of one review form, with typed values and errors kept after a refusal. */
function reviewFormModel(input: { idPrefix: string; values: Record<string, unknown>; errors: FormErrors; variants: { id: string; option1: string | null; option2: string | null; option3: string | null; sku: string }[] }) {
  const v = (k: string) => (typeof input.values[k] === "string" ? (input.values[k] as string) : "");
  const rating = v("rating");
  return {
    idPrefix: input.idPrefix,
    stars: [5, 4, 3, 2, 1].map((n) => ({ n, checked: rating === String(n) })),
    v: { title: v("title"), body: v("body"), displayName: v("displayName"), email: v("email"), incentivized: v("incentivized") === "on" },
    variants: input.variants.map((x) => ({ id: x.id, label: [x.option1, x.option2, x.option3].filter(Boolean).join(" / ") || x.sku, selected: v("variantId") === x.id })),
    e: input.errors,
  };
}

/** The fields an AppError names, for the form; the message itself when it names none. */
function fieldErrors(err: AppError): FormErrors {
  const details = Array.isArray(err.details) ? (err.details as { field?: string; message?: string }[]) : [];
  const named = details.filter((d) => d.field).map((d) => [d.field!.replace(/\.\d+$/, ""), err.message] as const);
  return named.length > 0 ? Object.fromEntries(named) : { form: err.message };
}

/**
 * Public, cookie-free pieces, mounted with the gallery embed before cookie
 * parsing, CSRF and the language cookie, so they never set a cookie: the
 * embeddable reviews widget (/embed/reviews.js, its stylesheet, and the CORS
 * JSON it reads) and the Google product review feed. The widget follows the
 * gallery widget's conventions (src/posts/embed.ts): data-target, data-lang,
 * data-limit, Shadow DOM, adopted stylesheet, textContent only.
 */
export function reviewsEmbedRoutes(deps: Deps, input: { viewsDir: string }) {
  const router = Router();
  const script = readFileSync(path.join(input.viewsDir, "static/js/embed-reviews.js"));
  const styles = readFileSync(path.join(input.viewsDir, "static/css/embed-reviews.css"));
  const files = ["/embed/reviews.js", "/embed/reviews.css", "/embed/reviews.json"];

  router.get("/embed/reviews.js", crossOrigin, (_req, res) => {
    res.set({ "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" });
    res.send(script);
  });

  router.get("/embed/reviews.css", crossOrigin, (_req, res) => {
    res.set({ "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=300" });
    res.send(styles);
  });

  router.get("/embed/reviews.json", crossOrigin, async (req, res) => {
    const query = EmbedQuery.parse(req.query);
    const locale: Locale = query.lang ?? deps.shop.locale;
    const product = query.product
      ? await deps.db.product.findUnique({
          where: { slug: query.product },
          select: { id: true, slug: true, title: true, status: true, ratingSummary: true, translations: { where: { locale }, select: { title: true } } },
        })
      : null;
    if (!product || product.status !== "active") throw AppError.notFound("product");
    const base = publicBaseFor(req, deps.shop.publicUrl);
    const summary = describeSummary(product.ratingSummary);
    const reviews = summary.count > 0 ? await readPublishedReviews(deps.db, { productId: product.id, sort: "newest", limit: query.limit, offset: 0 }) : [];
    const t = (key: string, vars?: Record<string, unknown>) => translate(locale, key, vars);
    // A new review or reply can appear at any moment: caches keep a copy but revalidate.
    res.set("Cache-Control", "public, no-cache");
    res.json({
      data: {
        product: { slug: product.slug, title: product.translations[0]?.title || product.title, url: `${base}/p/${product.slug}#reviews` },
        summary: { average: summary.average, count: summary.count, histogram: summary.histogram },
        reviews: reviews.map((r) => ({ ...toPublicReviewJson(r, (p) => `${base}${p}`), starsLabel: t("product.stars", { avg: r.rating }) })),
        lang: locale,
        dir: directionOf(locale),
        labels: {
          title: t("product.reviews"),
          average: formatNumber(summary.average, locale),
          summary: t("product.rating", { avg: summary.average, count: summary.count }),
          summaryStars: t("product.stars", { avg: summary.average }),
          verified: t("product.verifiedBuyer"),
          incentivized: t("reviews.incentivized"),
          reply: t("reviews.reply.label", { shop: deps.shop.name }),
          none: t("product.noReviews"),
          all: t("reviews.embed.all", { count: summary.count }),
          histogram: t("reviews.histogram"),
          rows: summary.histogram.map((h) => ({ stars: h.stars === 1 ? t("reviews.star") : t("reviews.stars", { count: h.stars }), count: formatNumber(h.count, locale) })),
        },
      },
    });
  });

  // Simple GETs need no preflight; answer one anyway for clients that send it.
  router.options(files, crossOrigin, (_req, res) => {
    res.set({ "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": "86400" }).status(204).end();
  });
  router.all(files, (req) => {
    throw new AppError("method_not_allowed", 405, `${req.method} is not allowed here; the embed endpoints answer GET only.`, ["GET", "HEAD", "OPTIONS"]);
  });

  router.get("/feeds/google-reviews.xml", async (_req, res) => {
    res.set({ "Content-Type": "application/xml; charset=utf-8", "Cache-Control": "public, no-cache", "X-Robots-Tag": "noindex" });
    await writeGoogleReviewFeed(deps, {
      publicBase: res.locals.publicBase as string,
      // Waits for the socket to drain (or the client to leave) so memory stays flat.
      write: (chunk) =>
        new Promise<void>((resolve) => {
          if (res.destroyed || res.write(chunk)) return resolve();
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.once("drain", done);
          res.once("close", done);
        }),
    });
    res.end();
  });

  return router;
}

const crossOrigin: RequestHandler = (_req, res, next) => {
  res.set({ "Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin" });
  next();
};

