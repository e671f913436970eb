import { Router, type Request, type Response } from "express";
import type { Actor } from "../audit/audit.service.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { urlFor } from "../http/urls.js";
import { applyFormEdit, validate, zodDetails } from "../http/validate.js";
import { REJECT_REASONS } from "./moderation.js";
import { answerQuestion, describeDuration, getAnswerStats, listQuestionsForAdmin, moderateQuestion, questionWait } from "./questions.service.js";
import { exportReviewsCsv, importReviewsCsv, OUR_COLUMNS, requireCsvFile, type ImportReport } from "./reviews.csv.js";
import {
  AdminReviewListQuery,
  AnswerBody,
  IdParams,
  ImportForm,
  ModerateBody,
  QuestionListQuery,
  ReplyBody,
  REVIEW_STATUSES,
  ReviewSettingsForm,
  type ReviewSettings,
  settingsToForm,
} from "./reviews.schema.js";
import { getReviewForAdmin, listModerationAudit, listReviewsForAdmin, markReviewIncentivized, moderateReview, replyToReview } from "./reviews.service.js";
import { listReviewRequests } from "./requests.service.js";
import { getReviewSettings, updateReviewSettings } from "./settings.js";

const CSV_MAX_BYTES = 5 * 1024 * 1024;

/** /admin/reviews… and /admin/questions: the moderation queue, replies, settings, audit log, requests, CSV. */
export function reviewsAdminRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response): Actor => ({ type: "admin", id: (res.locals.admin as { id: string }).id });
  const t = (res: Response) => res.locals.t as (k: string, v?: Record<string, unknown>) => string;
  const page = (res: Response, view: string, tab: string, data: Record<string, unknown>) =>
    res.render(view, { layout: "admin", nav: "reviews", tab, tabs: tabsFor(res, tab), reasons: REJECT_REASONS, ...data });
  const csvUpload = multipartForm({ fields: [{ name: "file", maxCount: 1 }], maxFileBytes: CSV_MAX_BYTES });

  function tabsFor(res: Response, current: string) {
    return [
      ["queue", "/admin/reviews", "reviews.admin.tab.queue"],
      ["questions", "/admin/questions", "reviews.admin.tab.questions"],
      ["requests", "/admin/reviews/requests", "reviews.admin.tab.requests"],
      ["audit", "/admin/reviews/audit", "reviews.admin.tab.audit"],
      ["import", "/admin/reviews/import", "reviews.admin.tab.import"],
      ["settings", "/admin/reviews/settings", "reviews.admin.tab.settings"],
    ].map(([id, path, label]) => ({ id, path, label: t(res)(label!), current: id === current }));
  }

  router.get("/reviews", validate({ query: AdminReviewListQuery }), async (req, res) => {
    const q = req.valid.query as { status: (typeof REVIEW_STATUSES)[number] | "all"; q?: string; productId?: string; cursor?: string };
    const list = await listReviewsForAdmin(deps, { ...q, limit: 25 });
    page(res, "admin/reviews", "queue", {
      title: t(res)("reviews.admin.title"),
      status: q.status,
      q: q.q ?? "",
      statuses: [...REVIEW_STATUSES, "all"].map((s) => ({
        value: s,
        count: s === "all" ? Object.values(list.counts).reduce((a, b) => a + b, 0) : (list.counts[s] ?? 0),
        current: s === q.status,
      })),
      reviews: list.items,
      nextCursor: list.nextCursor,
      done: typeof req.query.done === "string" ? req.query.done : null,
    });
  });

  router.get("/reviews/settings", async (req, res) => {
    await renderSettings(res, { settings: await getReviewSettings(deps.db), saved: req.query.saved === "1", errors: {} });
  });

  router.post("/reviews/settings", async (req, res) => {
    // What the form posts changes; a setting it does not carry keeps its value.
    const parsed = ReviewSettingsForm.safeParse(applyFormEdit(settingsToForm(await getReviewSettings(deps.db)), (req.body ?? {}) as Record<string, unknown>));
    if (!parsed.success) {
      const errors = Object.fromEntries(zodDetails(parsed.error).map((d) => [d.field, d.message]));
      return renderSettings(res.status(400), { settings: { ...(await getReviewSettings(deps.db)), ...(req.body as Partial<ReviewSettings>) }, saved: false, errors });
    }
    await updateReviewSettings(deps, { patch: parsed.data, actor: actor(res) });
    res.redirect(303, `${urlFor(req, "/admin/reviews/settings")}?saved=1`);
  });

  async function renderSettings(res: Response, view: { settings: ReviewSettings; saved: boolean; errors: Record<string, string> }) {
    page(res, "admin/reviews-settings", "settings", {
      title: t(res)("reviews.settings.title"),
      s: view.settings,
      saved: view.saved,
      errors: view.errors,
      problems: Object.keys(view.errors).length ? Object.entries(view.errors).map(([field, message]) => ({ field, message })) : null,
      feedUrl: `${res.locals.publicBase as string}/feeds/google-reviews.xml`,
    });
  }

  router.get("/reviews/audit", async (req, res) => {
    const cursor = typeof req.query.cursor === "string" ? req.query.cursor.slice(0, 64) : undefined;
    const audit = await listModerationAudit(deps, { cursor, limit: 50 });
    page(res, "admin/reviews-audit", "audit", { title: t(res)("reviews.audit.title"), entries: audit.items, nextCursor: audit.nextCursor });
  });

  router.get("/reviews/requests", async (_req, res) => {
    page(res, "admin/reviews-requests", "requests", { title: t(res)("reviews.requests.title"), requests: await listReviewRequests(deps, { limit: 100 }), settings: await getReviewSettings(deps.db) });
  });

  router.get("/reviews/import", (_req, res) => {
    renderImport(res, { report: null, format: "auto" });
  });

  router.post("/reviews/import", csvUpload, validate({ body: ImportForm }), async (req, res) => {
    const { format, mode } = req.valid.body as { format: "auto" | "ours" | "judgeme" | "okendo"; mode: "dry-run" | "apply" };
    const bytes = requireCsvFile(filesOf(req, "file")[0]);
    const report = await importReviewsCsv(deps, { bytes, format, dryRun: mode === "dry-run", actor: actor(res) });
    renderImport(res.status(report.problems.length > 0 ? 422 : 200), { report, format });
  });

  function renderImport(res: Response, view: { report: ImportReport | null; format: string }) {
    page(res, "admin/reviews-import", "import", {
      title: t(res)("reviews.import.title"),
      report: view.report,
      formats: ["auto", "ours", "judgeme", "okendo"].map((f) => ({ value: f, selected: f === view.format })),
      ourColumns: OUR_COLUMNS.join(", "),
      action: `${urlFor(res.req, "/admin/reviews/import")}?_csrf=${encodeURIComponent(res.locals.csrfToken as string)}`,
    });
  }

  router.get("/reviews/export.csv", async (_req, res) => {
    const csv = await exportReviewsCsv(deps, { publicBase: res.locals.publicBase as string });
    res.set({ "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="reviews.csv"', "Cache-Control": "no-store" });
    res.send(`\uFEFF${csv}`);
  });

  router.get("/reviews/:id", validate({ params: IdParams }), async (req, res) => {
    const review = await getReviewForAdmin(deps, { reviewId: req.valid.params.id });
    if (!review) throw AppError.notFound("review");
    page(res, "admin/reviews-detail", "queue", { title: review.title || t(res)("reviews.admin.untitled"), review, done: typeof req.query.done === "string" ? req.query.done : null });
  });

  router.post("/reviews/:id/moderate", validate({ params: IdParams, body: ModerateBody }), async (req, res) => {
    const body = req.valid.body as { action: "publish" | "reject" | "unpublish"; reason?: (typeof REJECT_REASONS)[number]; note?: string };
    await moderateReview(deps, { reviewId: req.valid.params.id, ...body, actor: actor(res) });
    res.redirect(303, backTo(req, `/admin/reviews/${req.valid.params.id}`, body.action));
  });

  router.post("/reviews/:id/reply", validate({ params: IdParams, body: ReplyBody }), async (req, res) => {
    await replyToReview(deps, { reviewId: req.valid.params.id, body: (req.valid.body as { body: string }).body, actor: actor(res) });
    res.redirect(303, backTo(req, `/admin/reviews/${req.valid.params.id}`, "reply"));
  });

  router.post("/reviews/:id/incentivized", validate({ params: IdParams }), async (req, res) => {
    await markReviewIncentivized(deps, { reviewId: req.valid.params.id, actor: actor(res) });
    res.redirect(303, backTo(req, `/admin/reviews/${req.valid.params.id}`, "incentivized"));
  });

  router.get("/questions", validate({ query: QuestionListQuery }), async (req, res) => {
    const filter = (req.valid.query as { filter: "unanswered" | "answered" | "pending" | "rejected" | "all" }).filter;
    const [questions, stats] = await Promise.all([listQuestionsForAdmin(deps, { filter, limit: 100 }), getAnswerStats(deps)]);
    page(res, "admin/reviews-questions", "questions", {
      title: t(res)("questions.admin.title"),
      filter,
      filters: ["unanswered", "answered", "pending", "rejected", "all"].map((f) => ({ value: f, current: f === filter })),
      questions: questions.map((q) => {
        const wait = questionWait(q, deps.now());
        return { ...q, waiting: wait ? describeDuration(wait.ms, t(res)) : null, overdue: !!wait?.overdue };
      }),
      stats: { ...stats, median: stats.medianMs === null ? null : describeDuration(stats.medianMs, t(res)) },
      done: typeof req.query.done === "string" ? req.query.done : null,
    });
  });

  router.post("/questions/:id/answer", validate({ params: IdParams, body: AnswerBody }), async (req, res) => {
    await answerQuestion(deps, { questionId: req.valid.params.id, body: (req.valid.body as { body: string }).body, actor: actor(res) });
    res.redirect(303, `${urlFor(req, "/admin/questions")}?done=answer`);
  });

  router.post("/questions/:id/moderate", validate({ params: IdParams, body: ModerateBody }), async (req, res) => {
    const body = req.valid.body as { action: "publish" | "reject" | "unpublish"; reason?: (typeof REJECT_REASONS)[number] };
    if (body.action === "unpublish") throw AppError.validation("action: publish or reject.", [{ field: "action", message: "publish or reject" }]);
    await moderateQuestion(deps, { questionId: req.valid.params.id, action: body.action, reason: body.reason, actor: actor(res) });
    res.redirect(303, `${urlFor(req, "/admin/questions")}?done=${body.action}`);
  });

  return router;
}

/** After an action: back to the page the form was on (queue or detail), never off-site. */
function backTo(req: Request, fallback: string, done: string) {
  const asked = (req.valid.body as { returnTo?: string } | undefined)?.returnTo;
  const from = asked && /^\/admin\/reviews(?:\/[A-Za-z0-9_-]+)?(?:\?[\w=&%-]*)?$/.test(asked) ? asked.replace(/[?&]done=[\w-]*/, "") : fallback;
  return `${urlFor(req, from)}${from.includes("?") ? "&" : "?"}done=${done}`;
}
