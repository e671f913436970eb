import { Router, type Response } from "express";
import type { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { listLiveComments, postLiveComments, resolveLiveComment } from "./comments.service.js";
import { AnswerInput, CommentListQuery, CommentsInput, FeatureInput, FlashInput, IdParams, ItemInput, ItemParams, ItemPatch, PinInput, SessionInput, SessionPatch } from "./live.schema.js";
import {
  addLiveItem,
  answerLiveQuestion,
  createLiveSession,
  endLiveSession,
  featureLiveItem,
  featureNextItem,
  getLiveSessionWithLineup,
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

/** /api/v1/live (mounted there): other tools (a stream deck, a chat bot, a comment forwarder) drive a show with these. */
export function liveApiRoutes(deps: Deps, streams: LiveStreams) {
  const router = Router();
  const actor = (res: Response) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });
  const linkBase = (res: Response) => res.locals.publicBase as string;
  const sessionJson = (s: { id: string; code: string }, res: Response) => ({ ...s, url: `${linkBase(res)}/live/${s.code}` });

  router.get("/", async (_req, res) => {
    res.json({ data: (await listLiveSessions(deps)).map((s) => sessionJson(s, res)) });
  });

  router.post("/", validate({ body: SessionInput }), async (req, res) => {
    const session = await createLiveSession(deps, { session: req.valid.body, actor: actor(res) });
    res.status(201).json({ data: sessionJson(session, res) });
  });

  router.get("/:id", validate({ params: IdParams }), async (req, res) => {
    const session = await getLiveSessionWithLineup(deps.db, { id: req.valid.params.id });
    if (!session) throw AppError.notFound("live session");
    const show = await liveShowState(deps, { session, locale: "en" });
    const { items: _i, ...fields } = session;
    res.json({ data: { ...sessionJson(fields, res), viewersNow: streams.viewersNow(session.id), featuredItemId: show.featuredItemId, items: show.items } });
  });

  router.patch("/:id", validate({ params: IdParams, body: SessionPatch }), async (req, res) => {
    res.json({ data: sessionJson(await updateLiveSession(deps, { id: req.valid.params.id, patch: req.valid.body, actor: actor(res) }), res) });
  });

  router.post("/:id/items", validate({ params: IdParams, body: ItemInput }), async (req, res) => {
    res.status(201).json({ data: await addLiveItem(deps, { sessionId: req.valid.params.id, item: req.valid.body, actor: actor(res) }) });
  });
  router.patch("/:id/items/:itemId", validate({ params: ItemParams, body: ItemPatch }), async (req, res) => {
    res.json({ data: await updateLiveItem(deps, { sessionId: req.valid.params.id, itemId: req.valid.params.itemId, patch: req.valid.body, actor: actor(res) }) });
  });
  router.delete("/:id/items/:itemId", validate({ params: ItemParams }), async (req, res) => {
    await removeLiveItem(deps, { sessionId: req.valid.params.id, itemId: req.valid.params.itemId, actor: actor(res) });
    res.json({ data: { removed: req.valid.params.itemId } });
  });

  router.post("/:id/start", validate({ params: IdParams }), async (req, res) => {
    res.json({ data: sessionJson(await startLiveSession(deps, { id: req.valid.params.id, actor: actor(res) }), res) });
  });
  router.post("/:id/end", validate({ params: IdParams }), async (req, res) => {
    res.json({ data: sessionJson(await endLiveSession(deps, { id: req.valid.params.id, actor: actor(res) }), res) });
  });
  router.post("/:id/feature", validate({ params: IdParams, body: FeatureInput }), async (req, res) => {
    const item = await featureLiveItem(deps, { id: req.valid.params.id, itemId: req.valid.body.itemId, actor: actor(res) });
    res.json({ data: { itemId: item.id, productId: item.productId } });
  });
  router.post("/:id/next", validate({ params: IdParams }), async (req, res) => {
    const item = await featureNextItem(deps, { id: req.valid.params.id, actor: actor(res) });
    res.json({ data: { itemId: item.id, productId: item.productId } });
  });
  router.post("/:id/pin", validate({ params: IdParams, body: PinInput }), async (req, res) => {
    await pinLiveMessage(deps, { id: req.valid.params.id, message: req.valid.body.message, actor: actor(res) });
    res.json({ data: { message: req.valid.body.message } });
  });
  router.post("/:id/flash", validate({ params: IdParams, body: FlashInput }), async (req, res) => {
    res.status(201).json({ data: await startFlashDeal(deps, { id: req.valid.params.id, deal: req.valid.body, actor: actor(res) }) });
  });
  router.post("/:id/flash/stop", validate({ params: IdParams }), async (req, res) => {
    await stopFlashDeal(deps, { id: req.valid.params.id, actor: actor(res) });
    res.json({ data: { stopped: true } });
  });

  router.post("/:id/comments", validate({ params: IdParams, body: CommentsInput }), async (req, res) => {
    const results = await postLiveComments(deps, { sessionId: req.valid.params.id, comments: req.valid.body.comments, linkBase: linkBase(res) });
    res.json({ data: results });
  });
  router.get("/:id/comments", validate({ params: IdParams, query: CommentListQuery }), async (req, res) => {
    await requireSession(deps.db, req.valid.params.id);
    const q = req.valid.query as z.infer<typeof CommentListQuery>;
    res.json({ data: await listLiveComments(deps, { sessionId: req.valid.params.id, unmatchedOnly: !!q.unmatched, limit: q.limit }) });
  });
  router.post("/:id/comments/:commentId/resolve", validate({ params: IdParams.extend({ commentId: IdParams.shape.id }) }), async (req, res) => {
    await resolveLiveComment(deps, { sessionId: req.valid.params.id, commentId: req.valid.params.commentId });
    res.json({ data: { resolved: req.valid.params.commentId } });
  });

  router.post("/:id/questions/:questionId/answer", validate({ params: IdParams.extend({ questionId: IdParams.shape.id }), body: AnswerInput }), async (req, res) => {
    res.json({ data: await answerLiveQuestion(deps, { sessionId: req.valid.params.id, questionId: req.valid.params.questionId, answer: req.valid.body.answer, actor: actor(res) }) });
  });

  router.get("/:id/stats", validate({ params: IdParams }), async (req, res) => {
    const stats = await liveStats(deps, { id: req.valid.params.id, viewersNow: streams.viewersNow(req.valid.params.id) });
    if (!stats) throw AppError.notFound("live session");
    res.json({ data: stats });
  });

  return router;
}
