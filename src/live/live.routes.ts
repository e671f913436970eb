import { randomBytes } from "node:crypto";
import { Router, type Request, type RequestHandler, type Response } from "express";
import type { z } from "zod";
import type { Attribution } from "../checkout/checkout.service.js";
import type { Deps } from "../deps.js";
import { currentFollower } from "../followers/follower-session.js";
import { cookieOptions } from "../http/cookies.js";
import { limiter } from "../http/rate-limit.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate, zodDetails } from "../http/validate.js";
import { wantsJson } from "../http/wants-json.js";
import { translate, type Locale } from "../i18n/translate.js";
import { claimantState, claimLiveItem, releaseLiveClaim, startClaimCheckout, webClaimant, type ClaimOutcome } from "./claims.service.js";
import { recordAnonymousLiveJoin, recordLiveAnalytics } from "./live.analytics.js";
import { ClaimCheckoutInput, ClaimInput, CodeParams, EventsQuery, PayTokenParams, QuestionInput, RemindInput, ViewerQuery } from "./live.schema.js";
import { addLiveReminder, askLiveQuestion, claimantFromPayToken, findSessionByCode, getLiveSessionWithLineup, payToken } from "./live.service.js";
import type { LiveStreams } from "./live.stream.js";
import { isVideoFile, liveChapters, liveShowState } from "./live.view.js";

/** The viewer's id for live shows: who claims, per-buyer limits, distinct viewers. */
export const VIEWER_COOKIE = "bz_live";
const VIEWER_ID = /^[A-Za-z0-9_-]{32}$/;

function viewerId(req: Request, res: Response): string {
  const existing = req.cookies?.[VIEWER_COOKIE];
  if (typeof existing === "string" && VIEWER_ID.test(existing)) return existing;
  const fresh = randomBytes(24).toString("base64url");
  res.cookie(VIEWER_COOKIE, fresh, cookieOptions(req, { maxAge: 90 * 24 * 3600 * 1000 }));
  req.cookies[VIEWER_COOKIE] = fresh;
  return fresh;
}

async function sessionFor(deps: Deps, code: string) {
  const session = await findSessionByCode(deps, code);
  if (!session) throw new AppError("not_found", 404, "There is no live show at this address. Check the link the host shared.");
  return session;
}

/**
 * GET /live/:code/events — the Server-Sent Events stream. Mounted before the
 * cookie-setting middleware (CSRF, cart count) so a stream costs no database
 * work beyond finding the show; it changes nothing.
 */
export function liveStreamRoutes(deps: Deps, streams: LiveStreams) {
  const router = Router();
  router.get("/live/:code/events", validate({ params: CodeParams, query: EventsQuery }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const header = Number.parseInt(req.get("last-event-id") ?? "", 10);
    const after = Number.isInteger(header) && header >= 0 ? header : ((req.valid.query as z.infer<typeof EventsQuery>).after ?? null);
    const cookie = req.cookies?.[VIEWER_COOKIE];
    const visitor = typeof cookie === "string" && VIEWER_ID.test(cookie) ? cookie : `anon:${randomBytes(8).toString("hex")}`;
    await streams.open(res, { sessionId: session.id, afterSeq: after, host: false, visitor });
  });
  return router;
}

/**
 * A claim as the viewer page sends it. No lookup of the show here: the claim
 * reads show, item and stock in one statement (a crowd claims at once).
 */
async function placeClaim(deps: Deps, req: Request, res: Response, input: { code: string; viewer: string; parsed: ReturnType<typeof ClaimInput.safeParse> }) {
  const { parsed } = input;
  if (!parsed.success) throw AppError.validation(`Invalid request body: ${zodDetails(parsed.error).map((d) => `${d.field}: ${d.message}`).join("; ")}`, zodDetails(parsed.error));
  const follower = await currentFollower(deps, req);
  const followerEmail = follower ? await deps.db.follower.findUnique({ where: { id: follower.id }, select: { email: true, emailConfirmedAt: true } }) : null;
  const typed = typeof req.body?.email === "string" ? req.body.email.trim() : "";
  return claimLiveItem(deps, {
    sessionCode: input.code,
    itemId: parsed.data.itemId,
    variantId: parsed.data.variantId,
    quantity: parsed.data.quantity,
    linkBase: res.locals.publicBase as string,
    who: {
      claimant: webClaimant(input.viewer),
      source: "web",
      locale: res.locals.locale,
      follower,
      email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(typed) && typed.length <= 254 ? typed : followerEmail?.emailConfirmedAt ? followerEmail.email : null,
    },
  });
}

/** 201 with the claim, or the refusal in the error handler's shape (the crowd after the last unit: no exception unwound). */
async function answerClaimJson(deps: Deps, res: Response, input: { code: string; viewer: string; outcome: Awaited<ReturnType<typeof claimLiveItem>> }) {
  const { outcome } = input;
  if (outcome.outcome !== "claimed") {
    const refused = refusalOf(outcome, res.locals.locale);
    res.status(refused.status).json({ error: { code: refused.code, message: refused.message, details: refused.details } });
    return;
  }
  const claim = outcome.claim;
  res.status(201).json({
    data: {
      ...claim,
      holdSeconds: Math.round((claim.expiresAt.getTime() - deps.now().getTime()) / 1000),
      checkoutUrl: `${res.locals.publicBase as string}/live/${input.code}/pay/${await payToken(deps, outcome.sessionId, webClaimant(input.viewer))}`,
    },
  });
}

/**
 * POST /live/:code/claims in JSON — the viewer page's script, when 500
 * people tap "claim" within a second. The storefront mounts this right after
 * the body parsers and the language, before the page locals (a settings read
 * that only a rendered page needs) and the routers a page request walks
 * through; `csrf` is the storefront's own CSRF check, so nothing is skipped
 * that protects the request. A form post (no script) goes on to the route in
 * liveRoutes, which renders the page with the error.
 */
export function liveClaimRoutes(deps: Deps, options: { csrf: RequestHandler[] }) {
  const router = Router();
  router.post(
    "/live/:code/claims",
    (req, _res, next) => next(wantsJson(req) ? undefined : "route"),
    ...options.csrf,
    validate({ params: CodeParams }),
    async (req, res) => {
      const code = req.valid.params.code as string;
      const viewer = viewerId(req, res);
      const outcome = await placeClaim(deps, req, res, { code, viewer, parsed: ClaimInput.safeParse(req.body ?? {}) });
      await answerClaimJson(deps, res, { code, viewer, outcome });
    },
  );
  return router;
}

/** The viewer page and what a shopper does on it: claim, pay, remind me, ask. */
export function liveRoutes(deps: Deps, options: { attribution?: (req: Request) => Promise<Attribution | null> } = {}) {
  const router = Router();
  const linkBase = (res: Response) => res.locals.publicBase as string;

  router.get("/live/:code", validate({ params: CodeParams, query: ViewerQuery }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const selected = (req.valid.query as z.infer<typeof ViewerQuery>).item ?? null;
    const cancelled = req.query.cancelled === "1";
    if (res.locals.publicPage === true) {
      // A first visit (no cookies): one page for everyone, from the page cache
      // (src/pages) when the show moves fast. The viewer id is made when this
      // browser first claims, asks or loads its own part (/live/:code/you).
      // Bots and link previews are left out by the event writer.
      recordAnonymousLiveJoin(deps, req, res, { sessionId: session.id, meta: { status: session.status } });
      await renderViewer(req, res, { code: session.code, viewer: null, selected, cancelled });
      return;
    }
    const viewer = viewerId(req, res);
    recordLiveAnalytics(deps, { type: "live_join", sessionId: session.id, visitorId: webClaimant(viewer), meta: { status: session.status } }, req);
    res.set("Cache-Control", "no-store");
    await renderViewer(req, res, { code: session.code, viewer, selected, cancelled });
  });

  router.get("/live/:code/you", validate({ params: CodeParams }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const viewer = viewerId(req, res);
    res.set("Cache-Control", "no-store");
    const you = await claimantState(deps, { sessionId: session.id, claimant: webClaimant(viewer), locale: res.locals.locale });
    if (wantsJson(req)) return res.json({ data: you });
    res.render("live/you", { layout: false, session, you, canPay: you.claims.some((c) => c.held || c.inCheckout), currency: deps.shop.currency });
  });

  // A form post (no script) lands here, and so does JSON when the storefront did not mount liveClaimRoutes before it.
  router.post("/live/:code/claims", validate({ params: CodeParams }), async (req, res) => {
    const code = req.valid.params.code as string;
    const viewer = viewerId(req, res);
    const parsed = ClaimInput.safeParse(req.body ?? {});
    try {
      const outcome = await placeClaim(deps, req, res, { code, viewer, parsed });
      if (wantsJson(req)) return await answerClaimJson(deps, res, { code, viewer, outcome });
      if (outcome.outcome !== "claimed") throw refusal(outcome, res.locals.locale);
      res.redirect(303, `${urlFor(req, `/live/${code}`)}?item=${encodeURIComponent(outcome.claim.itemId)}#you`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req) || err.code === "not_found") throw err;
      res.status(err.status);
      await renderViewer(req, res, { code, viewer, selected: parsed.success ? parsed.data.itemId : null, claimError: err.message });
    }
  });

  router.post("/live/:code/claims/:claimId/release", validate({ params: CodeParams.extend({ claimId: ClaimInput.shape.itemId }) }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const viewer = viewerId(req, res);
    await releaseLiveClaim(deps, { sessionId: session.id, claimId: req.valid.params.claimId, claimant: webClaimant(viewer), linkBase: linkBase(res) });
    if (wantsJson(req)) return res.json({ data: { released: req.valid.params.claimId } });
    res.redirect(303, `${urlFor(req, `/live/${session.code}`)}#you`);
  });

  const pay = async (req: Request, res: Response, input: { session: { id: string; code: string }; claimant: string; onError: (message: string, status: number) => Promise<void> }) => {
    const parsed = ClaimCheckoutInput.safeParse(req.body ?? {});
    try {
      if (!parsed.success) throw AppError.validation(`Invalid request body: ${zodDetails(parsed.error).map((d) => `${d.field}: ${d.message}`).join("; ")}`, zodDetails(parsed.error));
      const started = await startClaimCheckout(deps, {
        session: input.session,
        claimant: input.claimant,
        email: parsed.data.email ?? null,
        coupon: parsed.data.coupon ? parsed.data.coupon : null,
        locale: res.locals.locale,
        returnBase: linkBase(res),
        attribution: options.attribution ? await options.attribution(req) : null,
        follower: await currentFollower(deps, req),
      });
      if (wantsJson(req)) return res.status(201).json({ data: { orderId: started.orderId, orderNumber: started.orderNumber, url: started.url } });
      res.redirect(303, started.url);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req)) throw err;
      await input.onError(err.message, err.status);
    }
  };

  router.post("/live/:code/checkout", validate({ params: CodeParams }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const viewer = viewerId(req, res);
    await pay(req, res, {
      session,
      claimant: webClaimant(viewer),
      onError: async (message, status) => {
        res.status(status);
        await renderViewer(req, res, { code: session.code, viewer, selected: null, payError: message });
      },
    });
  });

  // The personal checkout link of a chat handle (or of anyone, in a waitlist email).
  const tokenClaimant = async (req: Request) => {
    const { code, token } = req.valid.params as z.infer<typeof PayTokenParams>;
    const session = await sessionFor(deps, code);
    const claimant = await claimantFromPayToken(deps, session.id, token);
    if (!claimant) throw new AppError("not_found", 404, "This checkout link is not valid. Ask the host for your link again.");
    return { session, claimant };
  };
  const renderPayPage = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    const { session, claimant } = await tokenClaimant(req);
    const you = await claimantState(deps, { sessionId: session.id, claimant, locale: res.locals.locale });
    res.set({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex" });
    const held = you.claims.filter((c) => c.held || c.inCheckout);
    res.render("live/pay", {
      title: res.locals.t("live.pay.title", { title: session.title }),
      session,
      you,
      held,
      handle: claimant.includes(":") && !claimant.startsWith("web:") ? claimant.slice(claimant.indexOf(":") + 1) : null,
      totalMinor: held.reduce((n, c) => n + c.unitPriceMinor * c.quantity, 0),
      currency: deps.shop.currency,
      action: urlFor(req, req.path),
      ...extra,
    });
  };
  router.get("/live/:code/pay/:token", validate({ params: PayTokenParams }), async (req, res) => {
    await renderPayPage(req, res);
  });
  router.post("/live/:code/pay/:token", validate({ params: PayTokenParams }), async (req, res) => {
    const { session, claimant } = await tokenClaimant(req);
    await pay(req, res, {
      session,
      claimant,
      onError: async (message, status) => {
        res.status(status);
        await renderPayPage(req, res, { error: message });
      },
    });
  });

  // Each reminder is an email to an address someone typed: limited per address of the sender, like the follow form.
  const remindLimit = limiter(deps, "live-remind", { windowMs: 15 * 60_000, limit: 10 }, "Too many reminders from this address.");
  const askLimit = limiter(deps, "live-ask", { windowMs: 15 * 60_000, limit: 30 }, "Too many questions from this address.");

  router.post("/live/:code/remind", remindLimit, validate({ params: CodeParams, body: RemindInput }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const follower = await currentFollower(deps, req);
    const followerRow = follower ? await deps.db.follower.findUnique({ where: { id: follower.id }, select: { email: true, emailConfirmedAt: true } }) : null;
    const email = (req.valid.body as z.infer<typeof RemindInput>).email ?? (followerRow?.emailConfirmedAt ? followerRow.email : null);
    if (!email) throw AppError.validation("email: enter the email to remind.", [{ field: "email", message: "required" }]);
    await addLiveReminder(deps, { sessionId: session.id, email, followerId: follower?.id ?? null, locale: res.locals.locale });
    if (wantsJson(req)) return res.status(201).json({ data: { reminded: true } });
    res.redirect(303, `${urlFor(req, `/live/${session.code}`)}?reminded=1#remind`);
  });

  router.post("/live/:code/questions", askLimit, validate({ params: CodeParams }), async (req, res) => {
    const session = await sessionFor(deps, req.valid.params.code);
    const viewer = viewerId(req, res);
    const parsed = QuestionInput.safeParse(req.body ?? {});
    try {
      if (!parsed.success) throw AppError.validation(`Invalid request body: ${zodDetails(parsed.error).map((d) => `${d.field}: ${d.message}`).join("; ")}`, zodDetails(parsed.error));
      await askLiveQuestion(deps, { sessionId: session.id, name: parsed.data.name, text: parsed.data.text, visitorId: webClaimant(viewer) });
      if (wantsJson(req)) return res.status(201).json({ data: { asked: true } });
      res.redirect(303, `${urlFor(req, `/live/${session.code}`)}?asked=1#questions`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req)) throw err;
      res.status(err.status);
      await renderViewer(req, res, { code: session.code, viewer, selected: null, questionError: err.message });
    }
  });

  async function renderViewer(req: Request, res: Response, input: { code: string; viewer: string | null; selected: string | null; cancelled?: boolean; claimError?: string; payError?: string; questionError?: string }) {
    const locale = res.locals.locale as Locale;
    const session = await getLiveSessionWithLineup(deps.db, { code: input.code }, locale);
    if (!session) throw AppError.notFound("live show");
    const now = deps.now();
    const show = await liveShowState(deps, { session, locale });
    const you = input.viewer ? await claimantState(deps, { sessionId: session.id, claimant: webClaimant(input.viewer), locale }) : { claims: [], waitlist: [] };
    const stageId = (input.selected && show.items.some((i) => i.id === input.selected) ? input.selected : null) ?? show.featuredItemId ?? show.items[0]?.id ?? null;
    const questions = await deps.db.liveQuestion.findMany({ where: { liveSessionId: session.id, answeredAt: { not: null }, hiddenAt: null }, orderBy: [{ answeredAt: "desc" }, { id: "desc" }], take: 30 });
    const ended = session.status === "ended";
    const chapters = ended ? await liveChapters(deps, { session, locale }) : [];
    const follower = input.viewer ? await currentFollower(deps, req) : null;
    const startsIn = Math.max(0, Math.round((session.startsAt.getTime() - now.getTime()) / 1000));
    const t = (key: string, vars?: Record<string, unknown>) => translate(locale, key, vars);
    res.render("live/show", {
      title: session.title,
      session,
      scheduled: session.status === "scheduled",
      live: session.status === "live",
      ended,
      items: show.items.map((i) => ({ ...i, onStage: i.id === stageId })),
      featuredItemId: show.featuredItemId,
      stageItem: show.items.find((i) => i.id === stageId) ?? null,
      you,
      hasClaims: you.claims.length > 0 || you.waitlist.length > 0,
      canPay: you.claims.some((c) => c.held || c.inCheckout),
      questions,
      chapters,
      replayVideo: ended && isVideoFile(session.replayUrl),
      follower,
      startsIn,
      startsInText: countdownText(startsIn, t),
      currency: deps.shop.currency,
      reminded: req.query.reminded === "1",
      asked: req.query.asked === "1",
      cancelled: input.cancelled ?? false,
      claimError: input.claimError,
      payError: input.payError,
      questionError: input.questionError,
      // Our own strings, for the script; "<" escaped so nothing can close the script element.
      i18n: JSON.stringify({
        left: t("live.left", { count: 9999 }).replace(/[0-9۰-۹,٬]+/, "{count}"),
        soldOut: t("live.soldOut"),
        held: t("live.claim.held"),
        nowShowing: t("live.nowShowing", { title: "{title}" }),
        flashLeft: t("live.flash.left", { count: 9999 }).replace(/[0-9۰-۹,٬]+/, "{count}"),
        expired: t("live.claim.expiredNow"),
        error: t("live.claim.failed"),
        startsNow: t("live.startsNow"),
      }).replace(/</g, "\\u003c"),
    });
  }

  return router;
}

function countdownText(seconds: number, t: (key: string, vars?: Record<string, unknown>) => string) {
  if (seconds <= 0) return t("live.startsNow");
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.ceil((seconds % 3600) / 60);
  if (d > 0) return t("live.startsInDays", { d, h });
  if (h > 0) return t("live.startsInHours", { h, m: Math.min(m, 59) });
  return t("live.startsInMinutes", { m });
}

/** A claim that did not happen, as the 409 the contract names (a plain value: the crowd's answer needs no stack trace). */
function refusalOf(outcome: Exclude<ClaimOutcome, { outcome: "claimed" }>, locale: Locale) {
  if (outcome.outcome === "sold_out") {
    return { code: "sold_out", status: 409, message: translate(locale, "live.claim.soldOut", { position: outcome.position }), details: { waitlist: { position: outcome.position, variantId: outcome.variantId } } };
  }
  return { code: "buyer_limit", status: 409, message: translate(locale, "live.claim.limit", { limit: outcome.limit }), details: { limit: outcome.limit, held: outcome.held } };
}

function refusal(outcome: Exclude<ClaimOutcome, { outcome: "claimed" }>, locale: Locale): AppError {
  const r = refusalOf(outcome, locale);
  return new AppError(r.code, r.status, r.message, r.details);
}
