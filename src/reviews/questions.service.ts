/**
 * Questions and answers on products. Shoppers ask; the merchant answers;
 * answered questions show on the product page. Questions pass the same
 * uniform filters as reviews (profanity, links, spam), and a rejection needs
 * a reason from the same fixed list and lands in the audit log.
 */
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import type { Locale } from "../i18n/translate.js";
import { flagSummary, moderateContent, type RejectReason } from "./moderation.js";
import type { QuestionInput } from "./reviews.schema.js";
import { getReviewSettings } from "./settings.js";

export async function askQuestion(deps: Deps, input: { productId: string; question: QuestionInput; locale: Locale }) {
  const product = await deps.db.product.findUnique({ where: { id: input.productId }, select: { id: true, status: true } });
  if (!product || product.status !== "active") throw AppError.notFound("product");
  const settings = await getReviewSettings(deps.db);
  const q = input.question;
  // Copies of questions are normal ("Is it dishwasher safe?"), so no duplicate rule here.
  const decision = moderateContent({ fields: { body: q.body, askerName: q.askerName }, isDuplicate: false }, settings);
  return deps.db.$transaction(async (tx) => {
    const created = await tx.question.create({
      data: {
        productId: product.id,
        body: decision.fields.body!,
        askerName: decision.fields.askerName!,
        email: q.email ?? null,
        locale: q.locale ?? input.locale,
        status: decision.status,
        createdAt: deps.now(),
      },
    });
    if (decision.flags.length > 0) {
      await recordAudit(tx, {
        actor: { type: "system" },
        action: decision.status === "pending" ? "question.hold" : "question.censor",
        entityType: "question",
        entityId: created.id,
        rule: flagSummary(decision.flags),
        details: { flags: decision.flags },
      });
    }
    return { id: created.id, status: decision.status };
  });
}

/**
 * Adds the merchant's answer. The first answer sets `answeredAt` (by a
 * conditional update, so two answers at once keep the earlier time); a held
 * question the merchant answers is published with it, since answering is
 * reading it.
 */
export async function answerQuestion(deps: Deps, input: { questionId: string; body: string; actor: Actor }) {
  return deps.db.$transaction(async (tx) => {
    const question = await tx.question.findUnique({ where: { id: input.questionId }, select: { id: true, status: true } });
    if (!question) throw AppError.notFound("question");
    if (question.status === "rejected") throw AppError.conflict("This question was rejected; publish it before answering.");
    const now = deps.now();
    const answer = await tx.answer.create({ data: { questionId: question.id, body: input.body, authorType: "merchant", createdAt: now } });
    await tx.question.updateMany({ where: { id: question.id, answeredAt: null }, data: { answeredAt: now } });
    if (question.status === "pending") await tx.question.update({ where: { id: question.id }, data: { status: "published" } });
    await recordAudit(tx, { actor: input.actor, action: "question.answer", entityType: "question", entityId: question.id });
    return answer;
  });
}

export async function moderateQuestion(deps: Deps, input: { questionId: string; action: "publish" | "reject"; reason?: RejectReason; actor: Actor }) {
  if (input.action === "reject" && !input.reason) {
    throw AppError.validation("reason: choose the rule this question breaks.", [{ field: "reason", message: "required to reject" }]);
  }
  return deps.db.$transaction(async (tx) => {
    const question = await tx.question.findUnique({ where: { id: input.questionId }, select: { status: true } });
    if (!question) throw AppError.notFound("question");
    const to = input.action === "publish" ? "published" : "rejected";
    const changed = await tx.question.updateMany({ where: { id: input.questionId, status: question.status }, data: { status: to } });
    if (changed.count === 1 && question.status !== to) {
      await recordAudit(tx, { actor: input.actor, action: `question.${input.action}`, entityType: "question", entityId: input.questionId, rule: input.reason, details: { from: question.status, to } });
    }
    return { changed: changed.count === 1 && question.status !== to, status: to };
  });
}

/**
 * Admin list: unanswered questions first (oldest waiting at the top), then
 * answered ones (latest answer first).
 */
export async function listQuestionsForAdmin(deps: Deps, input: { filter: "unanswered" | "answered" | "pending" | "rejected" | "all"; limit: number }) {
  const where =
    input.filter === "unanswered"
      ? { answeredAt: null, status: { not: "rejected" } }
      : input.filter === "answered"
        ? { answeredAt: { not: null } }
        : input.filter === "pending" || input.filter === "rejected"
          ? { status: input.filter }
          : {};
  const rows = await deps.db.question.findMany({
    where,
    take: 500,
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: { product: { select: { slug: true, title: true } }, answers: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } },
  });
  const unanswered = rows.filter((q) => !q.answeredAt);
  const answered = rows.filter((q) => q.answeredAt).sort((a, b) => b.answeredAt!.getTime() - a.answeredAt!.getTime());
  return [...unanswered, ...answered].slice(0, input.limit);
}

/**
 * A question unanswered for longer than this is overdue (admin list, owner
 * digest). Retailers answer the social questions they answer at all in about
 * 12 hours; a shop that wants to be better than that sees when it is not.
 */
export const QUESTION_OVERDUE_MS = 12 * 3600_000;

/** How long an unanswered question has waited, and whether that is overdue. */
export function questionWait(q: { createdAt: Date; answeredAt: Date | null; status: string }, now: Date) {
  if (q.answeredAt || q.status === "rejected") return null;
  const ms = Math.max(0, now.getTime() - q.createdAt.getTime());
  return { ms, overdue: ms > QUESTION_OVERDUE_MS };
}

/** Median time from question to first answer, over the last 1,000 answered questions (null if none). */
export async function getAnswerStats(deps: Deps) {
  const [answered, waiting] = await Promise.all([
    deps.db.question.findMany({ where: { answeredAt: { not: null } }, select: { createdAt: true, answeredAt: true }, orderBy: [{ answeredAt: "desc" }, { id: "desc" }], take: 1000 }),
    deps.db.question.count({ where: { answeredAt: null, status: { not: "rejected" } } }),
  ]);
  return { medianMs: median(answered.map((q) => q.answeredAt!.getTime() - q.createdAt.getTime())), answered: answered.length, waiting };
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "3 h 20 min", "2 d 4 h": a duration for the admin, in minutes at least. */
export function describeDuration(ms: number, t: (key: string, vars?: Record<string, unknown>) => string): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return t("reviews.duration.dh", { d: days, h: hours });
  if (hours > 0) return t("reviews.duration.hm", { h: hours, m: mins });
  return t("reviews.duration.m", { m: mins });
}
