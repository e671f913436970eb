import express, { Router, type Response } from "express";
import type { Actor } from "../audit/audit.service.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { answerQuestion, getAnswerStats, listQuestionsForAdmin, moderateQuestion } from "./questions.service.js";
import { exportReviewsCsv, importReviewsCsv } from "./reviews.csv.js";
import { AnswerBody, ApiImportQuery, ApiModerateBody, ApiReplyBody, ApiReviewListQuery, ApiReviewPatch, IdParams, QuestionListQuery } from "./reviews.schema.js";
import { getReviewForAdmin, listModerationAudit, listReviewsForAdmin, markReviewIncentivized, moderateReview, replyToReview } from "./reviews.service.js";
import { listReviewRequests } from "./requests.service.js";
import { getReviewSettings, updateReviewSettings } from "./settings.js";
import { bayesianAverage, describeSummary, getRatingPrior } from "./summary.js";

/**
 * /api/v1 reviews and questions (Bearer token, JSON). There is no endpoint
 * and no field that sets "verified buyer": the strict schemas refuse it.
 */
export function reviewsApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response): Actor => ({ type: "api", id: (res.locals.apiToken as { id: string }).id });

  router.get("/reviews", validate({ query: ApiReviewListQuery }), async (req, res) => {
    const q = req.valid.query as { status?: "pending" | "published" | "rejected"; productId?: string; limit: number; cursor?: string };
    const list = await listReviewsForAdmin(deps, { status: q.status ?? "all", productId: q.productId, cursor: q.cursor, limit: q.limit });
    res.json({ data: list.items, counts: list.counts, nextCursor: list.nextCursor ?? null });
  });

  router.get("/reviews/settings", async (_req, res) => {
    res.json({ data: await getReviewSettings(deps.db) });
  });

  router.patch("/reviews/settings", async (req, res) => {
    res.json({ data: await updateReviewSettings(deps, { patch: req.body, actor: actor(res) }) });
  });

  router.get("/reviews/audit", async (req, res) => {
    const cursor = typeof req.query.cursor === "string" ? req.query.cursor.slice(0, 64) : undefined;
    const audit = await listModerationAudit(deps, { cursor, limit: 100 });
    res.json({ data: audit.items, nextCursor: audit.nextCursor ?? null });
  });

  router.get("/reviews/requests", async (_req, res) => {
    res.json({ data: await listReviewRequests(deps, { limit: 200 }) });
  });

  router.get("/reviews/export.csv", async (_req, res) => {
    res.type("text/csv; charset=utf-8").send(await exportReviewsCsv(deps, { publicBase: res.locals.publicBase as string }));
  });

  // The CSV is the raw request body (Content-Type: text/csv).
  router.post("/reviews/import", express.raw({ type: ["text/csv", "application/octet-stream"], limit: "5mb" }), validate({ query: ApiImportQuery }), async (req, res) => {
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw AppError.validation("body: send the CSV file as the request body with Content-Type: text/csv.", [{ field: "body", message: "CSV required" }]);
    const q = req.valid.query as { format: "auto" | "ours" | "judgeme" | "okendo"; dryRun: boolean };
    const report = await importReviewsCsv(deps, { bytes: req.body, format: q.format, dryRun: q.dryRun, actor: actor(res) });
    res.status(report.problems.length > 0 ? 422 : report.applied ? 201 : 200).json({ data: report });
  });

  router.get("/reviews/:id", validate({ params: IdParams }), async (req, res) => {
    const review = await getReviewForAdmin(deps, { reviewId: req.valid.params.id });
    if (!review) throw AppError.notFound("review");
    res.json({ data: review });
  });

  router.patch("/reviews/:id", validate({ params: IdParams, body: ApiReviewPatch }), async (req, res) => {
    await markReviewIncentivized(deps, { reviewId: req.valid.params.id, actor: actor(res) });
    res.json({ data: await getReviewForAdmin(deps, { reviewId: req.valid.params.id }) });
  });

  for (const action of ["publish", "reject", "unpublish"] as const) {
    router.post(`/reviews/:id/${action}`, validate({ params: IdParams, body: ApiModerateBody }), async (req, res) => {
      const body = req.valid.body as { reason?: Parameters<typeof moderateReview>[1]["reason"]; note?: string };
      const result = await moderateReview(deps, { reviewId: req.valid.params.id, action, reason: body.reason, note: body.note, actor: actor(res) });
      res.json({ data: { ...result, review: await getReviewForAdmin(deps, { reviewId: req.valid.params.id }) } });
    });
  }

  router.put("/reviews/:id/reply", validate({ params: IdParams, body: ApiReplyBody }), async (req, res) => {
    res.json({ data: await replyToReview(deps, { reviewId: req.valid.params.id, body: (req.valid.body as { body: string }).body, actor: actor(res) }) });
  });

  router.delete("/reviews/:id/reply", validate({ params: IdParams }), async (req, res) => {
    await replyToReview(deps, { reviewId: req.valid.params.id, body: "", actor: actor(res) });
    res.status(204).end();
  });

  router.get("/products/:id/rating", validate({ params: IdParams }), async (req, res) => {
    const product = await deps.db.product.findUnique({ where: { id: req.valid.params.id }, select: { id: true, ratingSummary: true } });
    if (!product) throw AppError.notFound("product");
    const summary = describeSummary(product.ratingSummary);
    const prior = await getRatingPrior(deps);
    res.json({ data: { productId: product.id, ...summary, bayesianAverage: Math.round(bayesianAverage(summary, prior) * 1000) / 1000, prior } });
  });

  router.get("/questions", validate({ query: QuestionListQuery }), async (req, res) => {
    const filter = (req.valid.query as { filter: "unanswered" | "answered" | "pending" | "rejected" | "all" }).filter;
    const [questions, stats] = await Promise.all([listQuestionsForAdmin(deps, { filter, limit: 200 }), getAnswerStats(deps)]);
    res.json({ data: questions, stats });
  });

  router.post("/questions/:id/answers", validate({ params: IdParams, body: AnswerBody.omit({ _csrf: true }) }), async (req, res) => {
    res.status(201).json({ data: await answerQuestion(deps, { questionId: req.valid.params.id, body: (req.valid.body as { body: string }).body, actor: actor(res) }) });
  });

  for (const action of ["publish", "reject"] as const) {
    router.post(`/questions/:id/${action}`, validate({ params: IdParams, body: ApiModerateBody.omit({ note: true }) }), async (req, res) => {
      const reason = (req.valid.body as { reason?: Parameters<typeof moderateQuestion>[1]["reason"] }).reason;
      res.json({ data: await moderateQuestion(deps, { questionId: req.valid.params.id, action, reason, actor: actor(res) }) });
    });
  }

  return router;
}
