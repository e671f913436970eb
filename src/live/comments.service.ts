import { variantLabel } from "../catalog/catalog.service.js";
import type { Deps } from "../deps.js";
import { followerFacts } from "../followers/followers.service.js";
import { handleKey } from "../followers/person-key.js";
import { AppError } from "../http/errors.js";
import { formatMoney } from "../i18n/format.js";
import { translate, type Locale } from "../i18n/translate.js";
import { claimLiveItem, handleClaimant } from "./claims.service.js";
import { matchVariant, parseComment, prefersPersian } from "./comment-grammar.js";
import { appendLiveEventInTx } from "./live.events.js";
import type { CommentInputT } from "./live.schema.js";
import { liveTx, payToken, requireSession } from "./live.service.js";

/**
 * Comment-to-claim. Each comment, in order, is read against the lineup
 * (comment-grammar.ts), claimed like any web claim when it names one item and
 * one variant, and answered with a reply the host can paste back into the
 * chat. Every comment is stored with its outcome — none is dropped — and the
 * unmatched ones (not understood, ambiguous) wait in the host console.
 */

export type CommentOutcome = "claimed" | "sold_out" | "ambiguous" | "not_understood" | "limit_reached";

export interface CommentResult {
  outcome: CommentOutcome;
  reply: string;
  claimId?: string;
  commentId: string;
  itemId?: string;
  variantId?: string;
  checkoutUrl?: string;
  waitlistPosition?: number;
}

type Lineup = NonNullable<Awaited<ReturnType<typeof loadLineup>>>;

async function loadLineup(deps: Deps, sessionId: string) {
  return deps.db.liveItem.findMany({
    where: { liveSessionId: sessionId },
    orderBy: [{ position: "asc" }, { id: "asc" }],
    include: { product: { select: { title: true, optionNames: true, translations: { where: { locale: "fa" }, select: { title: true } }, variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }], select: { id: true, option1: true, option2: true, option3: true, priceMinor: true, currency: true } } } } },
  });
}

export async function postLiveComments(deps: Deps, input: { sessionId: string; comments: CommentInputT[]; linkBase: string }): Promise<CommentResult[]> {
  const session = await requireSession(deps.db, input.sessionId);
  if (session.status !== "live") {
    throw new AppError("not_live", 409, session.status === "scheduled" ? "The show has not started: comments are read only while it is live." : "The show has ended: comments are no longer read.");
  }
  const lineup = await loadLineup(deps, session.id);
  const results: CommentResult[] = [];
  for (const comment of input.comments) results.push(await handleComment(deps, { session, lineup, comment, linkBase: input.linkBase }));
  return results;
}

async function handleComment(deps: Deps, input: { session: { id: string; code: string; status: string; holdMinutes: number }; lineup: Lineup; comment: CommentInputT; linkBase: string }): Promise<CommentResult> {
  const { session, lineup, comment } = input;
  const locale: Locale = prefersPersian(comment.text) ? "fa" : "en";
  const handle = comment.handle.replace(/^@+/, "");
  const t = (key: string, vars: Record<string, unknown> = {}) => translate(locale, `live.reply.${key}`, { handle, ...vars });
  const parsed = parseComment(comment.text, lineup.map((i) => ({ itemId: i.id, claimCode: i.claimCode })));
  const example = lineup[0] ? `${locale === "fa" ? "خرید" : "claim"} ${lineup[0].claimCode}` : "claim 12";

  let result: Omit<CommentResult, "commentId">;
  if (parsed.kind === "chat") {
    result = { outcome: "not_understood", reply: t("not_understood", { example }) };
  } else if (parsed.kind === "unknown_code") {
    result = { outcome: "not_understood", reply: t("unknown_code", { code: parsed.code, example }) };
  } else {
    const item = lineup.find((i) => i.id === parsed.itemId)!;
    const title = (locale === "fa" && item.product.translations[0]?.title) || item.product.title;
    const match = matchVariant(item.product.variants.map((v) => ({ id: v.id, options: [v.option1, v.option2, v.option3] })), parsed.words);
    if (match.kind === "ask") {
      const names = JSON.parse(item.product.optionNames) as string[];
      const option = match.optionIndex !== null ? (names[match.optionIndex] ?? t("option")) : t("option");
      const values = match.values.length > 0 ? match.values : item.product.variants.map((v) => variantLabel(v));
      result = { outcome: "ambiguous", itemId: item.id, reply: t("ambiguous", { option: option.toLowerCase(), values: orList(values, locale), example: `${locale === "fa" ? "خرید" : "claim"} ${item.claimCode} ${values[0] ?? ""}`.trim() }) };
    } else {
      const variant = item.product.variants.find((v) => v.id === match.variantId)!;
      const label = [title, variantLabel(variant)].filter(Boolean).join(" – ");
      const follower = await deps.db.follower.findUnique({ where: { platform_handleKey: { platform: comment.platform, handleKey: handleKey(handle) } } });
      const claimant = handleClaimant(comment.platform, handle);
      try {
        const outcome = await claimLiveItem(deps, {
          sessionId: session.id,
          itemId: item.id,
          variantId: variant.id,
          quantity: 1,
          linkBase: input.linkBase,
          who: {
            claimant,
            source: "comment",
            handle,
            platform: comment.platform,
            email: follower?.emailConfirmedAt && follower.status === "active" ? follower.email : null,
            locale,
            follower: follower ? followerFacts(follower) : null,
          },
        });
        if (outcome.outcome === "claimed") {
          const url = `${input.linkBase}/live/${session.code}/pay/${await payToken(deps, session.id, claimant)}`;
          result = {
            outcome: "claimed",
            itemId: item.id,
            variantId: variant.id,
            claimId: outcome.claim.id,
            checkoutUrl: url,
            reply: t("claimed", { item: label, price: formatMoney(outcome.claim.unitPriceMinor, outcome.claim.currency, locale), minutes: session.holdMinutes, url }),
          };
        } else if (outcome.outcome === "sold_out") {
          result = { outcome: "sold_out", itemId: item.id, variantId: variant.id, waitlistPosition: outcome.position, reply: t("sold_out", { item: label, position: outcome.position }) };
        } else {
          result = { outcome: "limit_reached", itemId: item.id, variantId: variant.id, reply: t("limit_reached", { item: title, limit: outcome.limit }) };
        }
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        result = { outcome: "not_understood", itemId: item.id, reply: t("refused", { reason: err.message }) };
      }
    }
  }
  const unmatched = result.outcome === "not_understood" || result.outcome === "ambiguous";
  const row = await liveTx(deps, session.id, async (tx) => {
    const saved = await tx.liveComment.create({
      data: { liveSessionId: session.id, handle, platform: comment.platform, text: comment.text, outcome: result.outcome, reply: result.reply, claimId: result.claimId ?? null, itemId: result.itemId ?? null, createdAt: deps.now() },
    });
    await appendLiveEventInTx(tx, deps, { sessionId: session.id, type: "comment", data: { id: saved.id, outcome: result.outcome, unmatched }, audience: "host" });
    return saved;
  });
  return { ...result, commentId: row.id };
}

function orList(values: string[], locale: Locale) {
  if (values.length <= 1) return values.join("");
  const or = locale === "fa" ? " یا " : " or ";
  const sep = locale === "fa" ? "، " : ", ";
  return `${values.slice(0, -1).join(sep)}${or}${values[values.length - 1]}`;
}

/** Comments for the host console: unmatched ones not yet dealt with, or all, newest first. */
export async function listLiveComments(deps: Deps, input: { sessionId: string; unmatchedOnly: boolean; limit: number }) {
  return deps.db.liveComment.findMany({
    where: { liveSessionId: input.sessionId, ...(input.unmatchedOnly ? { outcome: { in: ["not_understood", "ambiguous"] }, resolvedAt: null } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
  });
}

/** The host dealt with an unmatched comment (answered it in the chat, or claimed for the handle by hand). */
export async function resolveLiveComment(deps: Deps, input: { sessionId: string; commentId: string }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const done = await tx.liveComment.updateMany({ where: { id: input.commentId, liveSessionId: input.sessionId, resolvedAt: null }, data: { resolvedAt: deps.now() } });
    if (done.count !== 1) throw AppError.notFound("unmatched comment");
    await appendLiveEventInTx(tx, deps, { sessionId: input.sessionId, type: "comment", data: { id: input.commentId, resolved: true }, audience: "host" });
  });
}
