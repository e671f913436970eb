import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { minorToDecimal, parseMoney } from "../catalog/money.js";
import { objectPanelFor } from "../analytics/analytics.routes.js";
import { RangeQuery, type RangeQueryT } from "../analytics/analytics.schema.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate, zodDetails } from "../http/validate.js";
import { wantsJson } from "../http/wants-json.js";
import type { Locale } from "../i18n/translate.js";
import { findProductByReference } from "../posts/tags.service.js";
import { listLiveComments, postLiveComments, resolveLiveComment } from "./comments.service.js";
import { AnswerInput, CommentInput, FlashInput, IdParams, ItemInput, ItemPatch, LIVE_PLATFORMS, PinInput, SessionInput, SessionPatch } from "./live.schema.js";
import {
  addLiveItem,
  answerLiveQuestion,
  createLiveSession,
  endLiveSession,
  featureLiveItem,
  featureNextItem,
  getLiveSessionWithLineup,
  hideLiveQuestion,
  listLiveSessions,
  pinLiveMessage,
  removeLiveItem,
  requireSession,
  startFlashDeal,
  startLiveSession,
  stopFlashDeal,
  updateLiveItem,
  updateLiveSession,
} from "./live.service.js";
import type { LiveStreams } from "./live.stream.js";
import { liveShowState, liveStats } from "./live.view.js";

type Body = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : "");
const optInt = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? Number(v) : null);

/** "2026-12-05T18:00" from a datetime-local field (UTC, as the label says) → ISO. */
const localToIso = (v: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v.trim()) ? `${v.trim()}:00Z` : v.trim());

function money(body: Body, field: string, currency: string, problems: { field: string; message: string }[]) {
  const raw = str(body[field]).trim();
  if (raw === "") return null;
  const parsed = parseMoney(raw, currency);
  if (!parsed.ok) {
    problems.push({ field, message: parsed.message });
    return null;
  }
  return parsed.minor;
}

function sessionFromForm(body: Body) {
  return {
    title: str(body.title),
    hostName: str(body.hostName),
    platform: str(body.platform) || "instagram",
    startsAt: localToIso(str(body.startsAt)),
    holdMinutes: optInt(body.holdMinutes) ?? 15,
    streamUrl: str(body.streamUrl),
    replayUrl: str(body.replayUrl),
    ...(str(body.code).trim() ? { code: str(body.code) } : {}),
  };
}

const FeatureForm = z.object({ itemId: z.string().min(1).max(64), _csrf: z.string().optional() });
const PinForm = z.object({ message: z.string().max(280), _csrf: z.string().optional() });

/** /admin/live: the list of shows, their setup (lineup), the host console and stats. */
export function liveAdminRoutes(deps: Deps, streams: LiveStreams) {
  const router = Router();
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });
  const linkBase = (res: Response) => res.locals.publicBase as string;
  const currency = deps.shop.currency;

  router.get("/", async (_req, res) => {
    await renderList(res, {});
  });

  router.post("/", async (req, res) => {
    const parsed = SessionInput.safeParse(sessionFromForm(req.body ?? {}));
    if (!parsed.success) return renderList(res.status(400), { problems: zodDetails(parsed.error), form: req.body });
    try {
      const session = await createLiveSession(deps, { session: parsed.data, actor: actor(res) });
      res.redirect(303, urlFor(req, `/admin/live/${session.id}/setup?created=1`));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderList(res.status(err.status), { problems: [{ field: "form", message: err.message }], form: req.body });
    }
  });

  async function renderList(res: Response, extra: { problems?: { field: string; message: string }[]; form?: Body }) {
    const sessions = await listLiveSessions(deps);
    res.render("admin/live-list", {
      layout: "admin",
      title: res.locals.t("live.admin.title"),
      nav: "live",
      sessions,
      platforms: LIVE_PLATFORMS.map((p) => ({ value: p, label: res.locals.t(`platform.${p}`), selected: p === (str(extra.form?.platform) || "instagram") })),
      form: extra.form ?? { holdMinutes: "15" },
      problems: extra.problems ?? [],
    });
  }

  // ───────────── setup: session fields and lineup ─────────────

  router.get("/:id/setup", validate({ params: IdParams }), async (req, res) => {
    await renderSetup(req, res, { created: req.query.created === "1", saved: req.query.saved === "1" });
  });

  router.post("/:id/setup", validate({ params: IdParams }), async (req, res) => {
    const { code: _c, ...fields } = sessionFromForm(req.body ?? {});
    const parsed = SessionPatch.safeParse(fields);
    if (!parsed.success) return renderSetup(req, res.status(400), { problems: zodDetails(parsed.error) });
    await updateLiveSession(deps, { id: req.valid.params.id, patch: parsed.data, actor: actor(res) });
    res.redirect(303, urlFor(req, `/admin/live/${req.valid.params.id}/setup?saved=1`));
  });

  router.post("/:id/items", validate({ params: IdParams }), async (req, res) => {
    const body = (req.body ?? {}) as Body;
    const problems: { field: string; message: string }[] = [];
    const ref = await findProductByReference(deps, { reference: str(body.product) });
    if (!ref) problems.push({ field: "product", message: `No product with the SKU or URL slug "${str(body.product).trim()}".` });
    const input = {
      productId: ref?.productId ?? "",
      claimCode: str(body.claimCode),
      livePriceMinor: money(body, "livePrice", currency, problems),
      perBuyerLimit: optInt(body.perBuyerLimit),
      quantityCap: optInt(body.quantityCap),
      followerPriceMinor: money(body, "followerPrice", currency, problems),
      followerMinDays: optInt(body.followerMinDays),
      followerVerification: str(body.followerVerification) || "any",
    };
    const parsed = ItemInput.safeParse(input);
    if (!parsed.success) problems.push(...zodDetails(parsed.error).filter((d) => d.field !== "productId" || ref));
    if (problems.length > 0 || !parsed.success) return renderSetup(req, res.status(400), { problems, itemForm: body });
    try {
      await addLiveItem(deps, { sessionId: req.valid.params.id, item: parsed.data, actor: actor(res) });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return renderSetup(req, res.status(err.status), { problems: [{ field: "form", message: err.message }], itemForm: body });
    }
    res.redirect(303, urlFor(req, `/admin/live/${req.valid.params.id}/setup?saved=1#lineup`));
  });

  router.post("/:id/items/:itemId", validate({ params: IdParams.extend({ itemId: IdParams.shape.id }) }), async (req, res) => {
    const body = (req.body ?? {}) as Body;
    const problems: { field: string; message: string }[] = [];
    const patch = {
      claimCode: str(body.claimCode),
      livePriceMinor: money(body, "livePrice", currency, problems),
      perBuyerLimit: optInt(body.perBuyerLimit),
      quantityCap: optInt(body.quantityCap),
      followerPriceMinor: money(body, "followerPrice", currency, problems),
      followerMinDays: optInt(body.followerMinDays),
      followerVerification: str(body.followerVerification) || "any",
      position: optInt(body.position) ?? undefined,
    };
    const parsed = ItemPatch.safeParse(patch);
    if (!parsed.success) problems.push(...zodDetails(parsed.error));
    if (problems.length > 0 || !parsed.success) return renderSetup(req, res.status(400), { problems });
    try {
      await updateLiveItem(deps, { sessionId: req.valid.params.id, itemId: req.valid.params.itemId, patch: parsed.data, actor: actor(res) });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return renderSetup(req, res.status(err.status), { problems: [{ field: "form", message: err.message }] });
    }
    res.redirect(303, urlFor(req, `/admin/live/${req.valid.params.id}/setup?saved=1#lineup`));
  });

  router.post("/:id/items/:itemId/remove", validate({ params: IdParams.extend({ itemId: IdParams.shape.id }) }), async (req, res) => {
    try {
      await removeLiveItem(deps, { sessionId: req.valid.params.id, itemId: req.valid.params.itemId, actor: actor(res) });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return renderSetup(req, res.status(err.status), { problems: [{ field: "form", message: err.message }] });
    }
    res.redirect(303, urlFor(req, `/admin/live/${req.valid.params.id}/setup#lineup`));
  });

  async function renderSetup(req: Request, res: Response, extra: { created?: boolean; saved?: boolean; problems?: { field: string; message: string }[]; itemForm?: Body }) {
    const session = await getLiveSessionWithLineup(deps.db, { id: req.valid.params.id as string }, res.locals.locale);
    if (!session) throw AppError.notFound("live session");
    const links = await deps.db.shortLink.findMany({ where: { liveSessionId: session.id, archivedAt: null }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], select: { id: true, code: true, channel: true } });
    res.render("admin/live-setup", {
      layout: "admin",
      title: res.locals.t("live.admin.setup", { title: session.title }),
      nav: "live",
      session,
      startsAtLocal: session.startsAt.toISOString().slice(0, 16),
      items: session.items.map((i) => ({
        ...i,
        title: i.product.translations[0]?.title || i.product.title,
        livePrice: i.livePriceMinor === null ? "" : minorToDecimal(i.livePriceMinor, currency),
        followerPrice: i.followerPriceMinor === null ? "" : minorToDecimal(i.followerPriceMinor, currency),
        verifications: ["any", "email", "imported", "both"].map((v) => ({ value: v, selected: v === i.followerVerification })),
      })),
      platforms: LIVE_PLATFORMS.map((p) => ({ value: p, label: res.locals.t(`platform.${p}`), selected: p === session.platform })),
      links,
      publicUrl: `${linkBase(res)}/live/${session.code}`,
      itemForm: extra.itemForm ?? {},
      problems: extra.problems ?? [],
      created: extra.created,
      saved: extra.saved,
    });
  }

  // ───────────── the host console ─────────────

  router.get("/:id", validate({ params: IdParams }), async (req, res) => {
    await renderConsole(req, res, {});
  });

  router.get("/:id/console.json", validate({ params: IdParams }), async (req, res) => {
    res.set("Cache-Control", "no-store");
    res.json({ data: await consoleData(req.valid.params.id, res.locals.locale) });
  });

  router.get("/:id/events", validate({ params: IdParams }), async (req, res) => {
    const session = await requireSession(deps.db, req.valid.params.id);
    const header = Number.parseInt(req.get("last-event-id") ?? "", 10);
    await streams.open(res, { sessionId: session.id, afterSeq: Number.isInteger(header) && header >= 0 ? header : null, host: true, visitor: `host:${(res.locals.admin as { id: string }).id}` });
  });

  /** Host actions: each answers JSON to the console's script, or goes back to the console (no JS). */
  const action = (path: string, run: (req: Request, res: Response) => Promise<unknown>) =>
    router.post(path, validate({ params: path.includes(":qid") ? IdParams.extend({ qid: IdParams.shape.id }) : path.includes(":cid") ? IdParams.extend({ cid: IdParams.shape.id }) : IdParams }), async (req, res) => {
      try {
        const result = await run(req, res);
        if (wantsJson(req)) return res.json({ data: result ?? { ok: true } });
        res.redirect(303, urlFor(req, `/admin/live/${req.valid.params.id}`));
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || wantsJson(req)) throw err;
        res.status(err.status);
        await renderConsole(req, res, { error: err.message });
      }
    });

  action("/:id/start", (req, res) => startLiveSession(deps, { id: req.valid.params.id, actor: actor(res) }));
  action("/:id/end", (req, res) => endLiveSession(deps, { id: req.valid.params.id, actor: actor(res) }));
  action("/:id/next", (req, res) => featureNextItem(deps, { id: req.valid.params.id, actor: actor(res) }));
  action("/:id/feature", (req, res) => {
    const body = FeatureForm.safeParse(req.body ?? {});
    if (!body.success) throw AppError.validation("itemId: choose a lineup item.", zodDetails(body.error));
    return featureLiveItem(deps, { id: req.valid.params.id, itemId: body.data.itemId, actor: actor(res) });
  });
  action("/:id/pin", (req, res) => {
    const body = PinForm.safeParse(req.body ?? {});
    if (!body.success) throw AppError.validation("message: at most 280 characters.", zodDetails(body.error));
    const parsed = PinInput.safeParse({ message: body.data.message });
    if (!parsed.success) throw AppError.validation(`message: ${zodDetails(parsed.error)[0]?.message}`, zodDetails(parsed.error));
    return pinLiveMessage(deps, { id: req.valid.params.id, message: parsed.data.message, actor: actor(res) });
  });
  action("/:id/flash", (req, res) => {
    const body = (req.body ?? {}) as Body;
    const problems: { field: string; message: string }[] = [];
    const input = {
      itemId: str(body.itemId),
      priceMinor: money(body, "price", currency, problems),
      seconds: optInt(body.seconds),
      unitCap: optInt(body.unitCap),
      perBuyerLimit: optInt(body.perBuyerLimit) ?? 1,
      followersOnly: body.followersOnly === "1" || body.followersOnly === "on",
      minFollowDays: optInt(body.minFollowDays),
    };
    const parsed = FlashInput.safeParse(input);
    if (!parsed.success) problems.push(...zodDetails(parsed.error));
    if (problems.length > 0 || !parsed.success) throw AppError.validation(problems.map((p) => `${p.field}: ${p.message}`).join("; "), problems);
    return startFlashDeal(deps, { id: req.valid.params.id, deal: parsed.data, actor: actor(res) });
  });
  action("/:id/flash/stop", (req, res) => stopFlashDeal(deps, { id: req.valid.params.id, actor: actor(res) }));
  action("/:id/questions/:qid/answer", (req, res) => {
    const parsed = AnswerInput.safeParse({ answer: str((req.body as Body)?.answer) });
    if (!parsed.success) throw AppError.validation(`answer: ${zodDetails(parsed.error)[0]?.message}`, zodDetails(parsed.error));
    return answerLiveQuestion(deps, { sessionId: req.valid.params.id, questionId: req.valid.params.qid, answer: parsed.data.answer, actor: actor(res) });
  });
  action("/:id/questions/:qid/hide", (req, res) => hideLiveQuestion(deps, { sessionId: req.valid.params.id, questionId: req.valid.params.qid, actor: actor(res) }));
  action("/:id/comments/:cid/resolve", (req) => resolveLiveComment(deps, { sessionId: req.valid.params.id, commentId: req.valid.params.cid }));

  // Pasting comments by hand: one "handle: text" per line, all from one platform.
  router.post("/:id/comments", validate({ params: IdParams }), async (req, res) => {
    const body = (req.body ?? {}) as Body;
    const platform = str(body.platform) || "instagram";
    const lines = str(body.comments)
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    const comments = lines.map((line) => {
      const colon = line.indexOf(":");
      return { handle: colon > 0 ? line.slice(0, colon).trim() : "", platform, text: colon > 0 ? line.slice(colon + 1).trim() : line };
    });
    const problems = comments.flatMap((c, i) => {
      const parsed = CommentInput.safeParse(c);
      return parsed.success ? [] : zodDetails(parsed.error).map((d) => ({ field: `line ${i + 1}`, message: `${d.field}: ${d.message}` }));
    });
    if (comments.length === 0) problems.push({ field: "comments", message: "Paste at least one comment as handle: text." });
    if (comments.length > 100) problems.push({ field: "comments", message: "At most 100 comments at a time." });
    if (problems.length > 0) {
      res.status(400);
      return renderConsole(req, res, { error: problems.map((p) => `${p.field}: ${p.message}`).join("; "), pasted: str(body.comments) });
    }
    try {
      const results = await postLiveComments(deps, { sessionId: req.valid.params.id, comments: comments.map((c) => CommentInput.parse(c)), linkBase: linkBase(res) });
      await renderConsole(req, res, { results: results.map((r, i) => ({ ...r, handle: comments[i]!.handle, text: comments[i]!.text })) });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      res.status(err.status);
      await renderConsole(req, res, { error: err.message, pasted: str(body.comments) });
    }
  });

  router.get("/:id/stats", validate({ params: IdParams, query: RangeQuery }), async (req, res) => {
    const stats = await liveStats(deps, { id: req.valid.params.id, viewersNow: streams.viewersNow(req.valid.params.id) });
    if (!stats) throw AppError.notFound("live session");
    // The show's figures and funnel for a chosen range, as on every object's admin page (src/analytics).
    const analyticsPanel = await objectPanelFor(deps, { kind: "live", id: stats.session.id, query: req.valid.query as RangeQueryT, locale: res.locals.locale as Locale, basePath: `/admin/live/${stats.session.id}/stats` });
    res.render("admin/live-stats", {
      analyticsPanel,
      layout: "admin",
      title: res.locals.t("live.stats.title", { title: stats.session.title }),
      nav: "live",
      stats,
      conversionPercent: Math.round(stats.claims.conversion * 1000) / 10,
    });
  });

  async function consoleData(id: string, locale: Locale) {
    const session = await getLiveSessionWithLineup(deps.db, { id }, locale);
    if (!session) throw AppError.notFound("live session");
    const show = await liveShowState(deps, { session, locale });
    const stats = (await liveStats(deps, { id, viewersNow: streams.viewersNow(id) }))!;
    const questions = await deps.db.liveQuestion.findMany({ where: { liveSessionId: id, answeredAt: null, hiddenAt: null }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: 50 });
    const unmatched = await listLiveComments(deps, { sessionId: id, unmatchedOnly: true, limit: 50 });
    const deal = show.items.find((i) => i.flash)?.flash ?? null;
    return {
      session: { id: session.id, code: session.code, title: session.title, status: session.status, pinnedMessage: session.pinnedMessage, eventSeq: session.eventSeq },
      counters: { viewersNow: stats.viewers.now, peakViewers: stats.viewers.peak, claims: stats.claims.total, claimsHeld: stats.claims.heldNow, claimsPaid: stats.claims.paid, revenueMinor: stats.orders.revenueMinor, currency: stats.currency },
      items: show.items.map((i) => ({ id: i.id, claimCode: i.claimCode, title: i.title, left: i.left, featured: i.featured, liveMinor: i.liveMinor, regularMinor: i.regularMinor, currency: i.currency, flash: i.flash })),
      featuredItemId: show.featuredItemId,
      flash: deal,
      questions,
      unmatched,
    };
  }

  async function renderConsole(req: Request, res: Response, extra: { error?: string; results?: unknown[]; pasted?: string }) {
    const data = await consoleData(req.valid.params.id as string, res.locals.locale);
    const featured = data.items.find((i) => i.featured) ?? null;
    const next = data.items.length > 0 ? data.items[(data.items.findIndex((i) => i.featured) + 1) % data.items.length] : null;
    res.set("Cache-Control", "no-store");
    res.render("admin/live-console", {
      layout: "admin",
      // On a phone the console is the whole screen: the admin menu stays out of the way (see live.css).
      bodyClass: "admin--console",
      title: res.locals.t("live.console.title", { title: data.session.title }),
      nav: "live",
      ...data,
      live: data.session.status === "live",
      scheduled: data.session.status === "scheduled",
      ended: data.session.status === "ended",
      featured,
      next,
      flashSecondsLeft: data.flash ? data.flash.secondsLeft : 0,
      publicUrl: `${linkBase(res)}/live/${data.session.code}`,
      platforms: LIVE_PLATFORMS.map((p) => ({ value: p, label: res.locals.t(`platform.${p}`) })),
      consoleJson: urlFor(req, `/admin/live/${data.session.id}/console.json`),
      eventsUrl: urlFor(req, `/admin/live/${data.session.id}/events`),
      ...extra,
    });
  }

  return router;
}
