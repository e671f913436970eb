import { createHash, randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import { Prisma } from "../generated/prisma/client.js";
import { sql } from "../db/dialect.js";
import { asWriter, newId, type Writer } from "../db/writer.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { isLocale } from "../i18n/translate.js";
import { absoluteLinks, hasEmailTemplate, htmlFromText, renderEmail, textWithLayout } from "./render.js";
import { classifySendError, type MailDelivery } from "./sender.js";

export type EmailCategory = "transactional" | "marketing" | "owner";
export type OutboxStatus = "queued" | "sent" | "failed" | "suppressed";

/**
 * Marketing mail (offers, reminders) carries a one-click unsubscribe; mail
 * about something the recipient did (confirmations, sign-in links, order and
 * review emails) and the owner's notifications do not.
 */
const MARKETING_TEMPLATES = new Set(["personal_code", "live.reminder"]);
export function categoryOf(template: string): EmailCategory {
  if (MARKETING_TEMPLATES.has(template)) return "marketing";
  return template.startsWith("owner.") ? "owner" : "transactional";
}

/** Bounds on what one email may hold; longer input is cut and the cut recorded in `notes`. */
export const EMAIL_LIMITS = { subject: 250, name: 120, text: 100_000, html: 400_000, address: 254 } as const;
export const UNSUBSCRIBE_PATH = "/email/unsubscribe";

const Address = z.email();
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
export const suppressionKeyOf = (email: string) => sha(`suppress:${email.trim().toLowerCase()}`);

export interface QueueEmailInput {
  to: string;
  subject: string;
  /** The text part. With `data` and a template in views/emails it is rendered instead. */
  text?: string;
  /** views/emails/<template>.{text,html}.hbs when it exists; also the email's kind in the admin. */
  template: string;
  /** "Queue once": a second queue with the same key is a no-op. */
  dedupeKey: string;
  /** Not to be sent before (review requests wait N days). */
  sendAfter?: Date;
  /** Recipient's display name. */
  toName?: string | null;
  /** Recipient's language ("en" | "fa"); the HTML part says lang/dir of it. */
  locale?: string | null;
  /** Data for the template (plus `shopName` for the header and footer). */
  data?: Record<string, unknown>;
  /** An HTML part rendered by the caller; by default it is made from the text. */
  html?: string;
  /** Default from the template name (see categoryOf). */
  category?: EmailCategory;
  /** Where the email's own links start: the shop's public URL, "" when unknown. */
  linkBase?: string;
}

/** Replaces line breaks and control characters (header injection) and bounds the length, noting what changed. */
function headerText(value: string, field: string, max: number, notes: string[]) {
  let v = value;
  if (/[\r\n]/.test(v)) {
    v = v.replace(/[\r\n]+/g, " ");
    notes.push(`${field} contained line breaks (header injection); they were replaced by spaces`);
  }
  // eslint-disable-next-line no-control-regex
  v = v.replace(/[\u0000-\u001f\u007f]/g, "").trim();
  if (v.length > max) {
    v = `${v.slice(0, max - 1)}…`;
    notes.push(`${field} was cut to ${max} characters`);
  }
  return v;
}

/**
 * Queues an email in the outbox inside the caller's transaction. The dedupe
 * key makes "send the confirmation once" hold however often the caller runs
 * (webhook redeliveries, reconcile): a second queue with the same key is a no-op.
 *
 * Both parts are rendered now, so the outbox shows exactly what will be sent.
 * Nothing here throws for bad content, which would roll back the caller's
 * order or follow: a subject or name with line breaks is cleaned, a huge body
 * cut, and an address no server would take is stored as failed with the
 * reason. Each such fix is recorded on the row (`notes`, `lastError`).
 */
export async function queueEmail(tx: Prisma.TransactionClient | Writer, input: QueueEmailInput) {
  const notes: string[] = [];
  const subject = headerText(input.subject, "subject", EMAIL_LIMITS.subject, notes) || "(no subject)";
  const toName = input.toName ? headerText(input.toName, "recipient name", EMAIL_LIMITS.name, notes) || null : null;
  const to = input.to.trim();
  const refused =
    /[\r\n]/.test(input.to) || to.length > EMAIL_LIMITS.address || !Address.safeParse(to).success
      ? `refused before sending: ${JSON.stringify(to.slice(0, 80))} is not an email address a mail server would accept`
      : null;
  const locale = isLocale(input.locale) ? input.locale : null;
  const category = input.category ?? categoryOf(input.template);
  const unsubscribeToken = category === "marketing" ? randomBytes(24).toString("base64url") : null;
  const ctx = { locale, subject, unsubscribeUrl: unsubscribeToken ? `${input.linkBase ?? ""}${UNSUBSCRIBE_PATH}/${unsubscribeToken}` : undefined };

  let text: string;
  let html: string;
  if (input.data && hasEmailTemplate(input.template)) {
    ({ text, html } = renderEmail(input.template, ctx, input.data));
  } else {
    text = textWithLayout(input.text ?? "", ctx, input.data);
    html = input.html ?? htmlFromText(input.text ?? "", ctx, input.data);
  }
  if (text.length > EMAIL_LIMITS.text) {
    const left = text.length - EMAIL_LIMITS.text;
    text = `${text.slice(0, EMAIL_LIMITS.text)}\n\n[… ${left} characters left out]\n`;
    notes.push(`text part was ${EMAIL_LIMITS.text + left} characters; cut to ${EMAIL_LIMITS.text}`);
  }
  if (html.length > EMAIL_LIMITS.html) {
    notes.push(`HTML part was ${html.length} characters; replaced by the (bounded) text`);
    html = htmlFromText(text, ctx, input.data);
  }

  // One INSERT … ON CONFLICT DO NOTHING (not SELECT, INSERT, SELECT): a
  // second email with the same key leaves the first one as it was. Hand SQL
  // so the paid webhook can run it through the hot-path writer (src/db/writer.ts).
  const storedTo = refused ? to.slice(0, EMAIL_LIMITS.address).replace(/[\r\n]/g, " ") : to;
  await asWriter(tx).run(
    sql`INSERT INTO "OutboxEmail" ("id", "dedupeKey", "to", "toName", "subject", "text", "html", "template", "locale", "category", "unsubscribeToken", "sendAfter", "status", "lastError", "notes", "createdAt")
        VALUES (${newId()}, ${input.dedupeKey}, ${storedTo}, ${toName}, ${subject}, ${text}, ${html}, ${input.template}, ${locale}, ${category}, ${unsubscribeToken}, ${input.sendAfter ?? null}, ${refused ? "failed" : "queued"}, ${refused}, ${notes.length ? notes.join("\n") : null}, ${new Date()})
        ON CONFLICT ("dedupeKey") DO NOTHING`,
  );
}

/**
 * Exponential backoff with jitter: about 1, 2, 4, 8 … minutes (capped at 6
 * hours), each drawn at random between half and all of it, so a relay that
 * comes back is not hit by every waiting email at the same second.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random) {
  const full = Math.min(60_000 * 2 ** Math.min(Math.max(attempt, 1) - 1, 20), 6 * 3600_000);
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Due, not held by a live claim: what a worker may take. */
function claimable(now: Date): Prisma.OutboxEmailWhereInput {
  return {
    status: "queued",
    AND: [
      { OR: [{ sendAfter: null }, { sendAfter: { lte: now } }] },
      { OR: [{ nextAttemptAt: null }, { nextAttemptAt: { lte: now } }] },
      { OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
    ],
  };
}

/**
 * Claims up to `limit` due emails for one worker with a single conditional
 * update: only rows still due and unclaimed change, so of two workers that
 * picked the same candidates each row goes to one of them (on PostgreSQL the
 * second UPDATE waits for the first's row locks, re-reads the lease and skips
 * them). The attempt is counted at the claim, so an email that kills its
 * worker cannot be retried forever.
 */
export async function claimDueEmails(deps: Pick<Deps, "db" | "now">, input: { owner: string; limit: number; leaseMs: number }) {
  const now = deps.now();
  const candidates = await deps.db.outboxEmail.findMany({ where: claimable(now), orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: input.limit, select: { id: true } });
  if (candidates.length === 0) return [];
  const claim = `${input.owner}:${randomUUID()}`;
  await deps.db.outboxEmail.updateMany({
    where: { id: { in: candidates.map((c) => c.id) }, ...claimable(now) },
    data: { leaseOwner: claim, leaseUntil: new Date(now.getTime() + input.leaseMs), attempts: { increment: 1 }, lastAttemptAt: now },
  });
  const rows = await deps.db.outboxEmail.findMany({ where: { leaseOwner: claim }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map((row) => ({ ...row, claim }));
}

type ClaimedEmail = Awaited<ReturnType<typeof claimDueEmails>>[number];
export type DeliveryOutcome = "sent" | "retry" | "failed" | "suppressed";

function messageIdFor(id: string, deps: Pick<Deps, "shop">, from: string) {
  let host = "bazaarche.invalid";
  if (deps.shop.publicUrl) host = new URL(deps.shop.publicUrl).hostname;
  else {
    const m = /@([^>\s]+)>?\s*$/.exec(from);
    if (m) host = m[1]!;
  }
  return `<${id}@${host}>`;
}

/** An email the server accepted, to be recorded with the others of its batch. */
export interface Accepted {
  id: string;
  claim: string;
  messageId: string;
  response: string;
}

/**
 * Sends one claimed email. A refusal is recorded at once (writing only while
 * this worker's claim still holds the row): permanent ones (5xx) fail with
 * the server's reply; temporary ones wait (backoff) until `maxAttempts`. An
 * accepted email is returned, and recorded with its batch by recordAccepted:
 * one statement per batch instead of one per email.
 */
export async function deliverClaimed(deps: Deps, mail: MailDelivery, row: ClaimedEmail): Promise<{ outcome: DeliveryOutcome; accepted?: Accepted }> {
  const mine = { id: row.id, leaseOwner: row.claim };
  const release = { leaseOwner: null, leaseUntil: null };
  if (row.category === "marketing" && (await deps.db.emailSuppression.findUnique({ where: { emailKey: suppressionKeyOf(row.to) } }))) {
    await deps.db.outboxEmail.updateMany({ where: mine, data: { ...release, status: "suppressed", lastError: "not sent: the recipient unsubscribed from offers and reminders" } });
    return { outcome: "suppressed" };
  }
  const publicUrl = deps.shop.publicUrl ?? "";
  const body = absoluteLinks({ text: row.text, html: row.html }, publicUrl);
  const headers: Record<string, string> = {};
  if (row.category === "marketing" && row.unsubscribeToken) {
    headers["List-Unsubscribe"] = `<${publicUrl}${UNSUBSCRIBE_PATH}/${row.unsubscribeToken}>`;
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  }
  const messageId = row.messageId ?? messageIdFor(row.id, deps, mail.from);
  try {
    const info = await mail.sender.send({
      from: mail.from,
      to: { address: row.to, name: row.toName ?? undefined },
      subject: row.subject,
      text: body.text,
      html: body.html ?? htmlFromText(row.text, { locale: isLocale(row.locale) ? row.locale : null, subject: row.subject }),
      messageId,
      date: deps.now(),
      headers,
    });
    return { outcome: "sent", accepted: { id: row.id, claim: row.claim, messageId: info.messageId || messageId, response: info.response.slice(0, 500) } };
  } catch (err) {
    const e = classifySendError(err);
    const now = deps.now();
    const giveUp = e.permanent || row.attempts >= mail.maxAttempts;
    const reason = e.permanent ? e.message : giveUp ? `gave up after ${row.attempts} attempts: ${e.message}` : e.message;
    await deps.db.outboxEmail.updateMany({
      where: mine,
      data: giveUp
        ? { ...release, status: "failed", lastError: reason, messageId, nextAttemptAt: null }
        : { ...release, lastError: reason, messageId, nextAttemptAt: new Date(now.getTime() + retryDelayMs(row.attempts)) },
    });
    deps.logger.warn({ emailId: row.id, attempts: row.attempts, permanent: e.permanent, code: e.responseCode }, giveUp ? "email failed" : "email send failed; will retry");
    return { outcome: giveUp ? "failed" : "retry" };
  }
}

/**
 * Records a batch of accepted emails as sent in one statement (portable SQL:
 * CASE for the per-email Message-ID and reply), only for rows this worker's
 * claim still holds.
 */
export async function recordAccepted(deps: Pick<Deps, "db" | "now" | "logger">, accepted: Accepted[]) {
  if (accepted.length === 0) return;
  const byClaim = new Map<string, Accepted[]>();
  for (const a of accepted) byClaim.set(a.claim, [...(byClaim.get(a.claim) ?? []), a]);
  for (const [claim, rows] of byClaim) {
    const ids = Prisma.join(rows.map((r) => r.id));
    const messageIds = Prisma.join(rows.map((r) => Prisma.sql`WHEN ${r.id} THEN ${r.messageId}`), " ");
    const responses = Prisma.join(rows.map((r) => Prisma.sql`WHEN ${r.id} THEN ${r.response}`), " ");
    const saved = await deps.db.$executeRaw`
      UPDATE "OutboxEmail"
      SET "status" = 'sent', "sentAt" = ${deps.now()}, "leaseOwner" = NULL, "leaseUntil" = NULL, "lastError" = NULL, "nextAttemptAt" = NULL,
          "messageId" = CASE "id" ${messageIds} END, "smtpResponse" = CASE "id" ${responses} END
      WHERE "id" IN (${ids}) AND "leaseOwner" = ${claim}`;
    if (saved !== rows.length) deps.logger.warn({ claim, accepted: rows.length, recorded: saved }, "emails sent after their claim ran out; another worker may send them again");
  }
}

/**
 * The outbox worker's run: claims due emails in batches and sends each batch
 * with bounded parallelism, until nothing is due, the time budget is spent
 * (`more: true`: the scheduler runs it again at once) or the signal aborts
 * (shutdown: emails already in flight finish; unclaimed ones stay queued).
 */
export async function sendDueEmails(
  deps: Deps,
  options: { owner?: string; signal?: AbortSignal; budgetMs?: number; progress?: (done: number, total?: number, note?: string) => Promise<void> } = {},
) {
  const mail = deps.mail;
  if (!mail) return { sender: "none" as const, sent: 0, retried: 0, failed: 0, suppressed: 0, more: false };
  const owner = options.owner ?? `worker:${randomUUID().slice(0, 8)}`;
  const budget = options.budgetMs ?? 20_000;
  const started = performance.now();
  const totals = { sent: 0, retried: 0, failed: 0, suppressed: 0 };
  let total: number | undefined;
  let more = false;
  while (!options.signal?.aborted) {
    if (performance.now() - started > budget) {
      more = true;
      break;
    }
    const batch = await claimDueEmails(deps, { owner, limit: mail.batchSize, leaseMs: mail.leaseMs });
    if (batch.length === 0) {
      // Another worker may have claimed exactly the rows this one picked: look again before stopping.
      if ((await deps.db.outboxEmail.count({ where: claimable(deps.now()) })) > 0) continue;
      break;
    }
    if (total === undefined && options.progress) total = batch.length + (await deps.db.outboxEmail.count({ where: claimable(deps.now()) }));
    let next = 0;
    const accepted: Accepted[] = [];
    const lane = async () => {
      while (next < batch.length) {
        const row = batch[next++]!;
        const { outcome, accepted: ok } = await deliverClaimed(deps, mail, row);
        if (ok) accepted.push(ok);
        if (outcome === "sent") totals.sent++;
        else if (outcome === "retry") totals.retried++;
        else if (outcome === "failed") totals.failed++;
        else totals.suppressed++;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(mail.concurrency, batch.length) }, lane));
    } finally {
      // Whatever else happened, what the server accepted is recorded: it must not be sent again.
      await recordAccepted(deps, accepted);
    }
    const done = totals.sent + totals.retried + totals.failed + totals.suppressed;
    await options.progress?.(done, total, `${totals.sent} sent, ${totals.retried} to retry, ${totals.failed} failed`);
  }
  return { sender: mail.sender.description, ...totals, more };
}

/** The state an admin sees: "sending" is a queued email under a live claim. */
export function displayStatus(row: { status: string; leaseUntil: Date | null }, now: Date) {
  return row.status === "queued" && row.leaseUntil && row.leaseUntil > now ? "sending" : row.status;
}

export const OUTBOX_FILTERS = ["queued", "sending", "sent", "failed", "suppressed"] as const;

/** One page of the outbox, newest first, with what the admin page and the API show. */
export async function listOutbox(deps: Deps, input: { status?: (typeof OUTBOX_FILTERS)[number]; cursor?: string; limit: number }) {
  const now = deps.now();
  const where: Prisma.OutboxEmailWhereInput =
    input.status === "sending"
      ? { status: "queued", leaseUntil: { gt: now } }
      : input.status === "queued"
        ? { status: "queued", OR: [{ leaseUntil: null }, { leaseUntil: { lte: now } }] }
        : input.status
          ? { status: input.status }
          : {};
  const rows = await deps.db.outboxEmail.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit + 1,
    ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
    select: {
      id: true,
      to: true,
      subject: true,
      template: true,
      category: true,
      locale: true,
      status: true,
      attempts: true,
      lastError: true,
      notes: true,
      sendAfter: true,
      nextAttemptAt: true,
      leaseUntil: true,
      lastAttemptAt: true,
      createdAt: true,
      sentAt: true,
      messageId: true,
      smtpResponse: true,
    },
  });
  const page = rows.slice(0, input.limit).map(({ leaseUntil, ...r }) => ({
    ...r,
    status: displayStatus({ status: r.status, leaseUntil }, now),
    // When it will be tried: the later of its send-after time and its backoff.
    nextAttemptAt: r.status === "queued" ? [r.sendAfter, r.nextAttemptAt, leaseUntil].filter((d): d is Date => !!d).reduce<Date>((a, b) => (b > a ? b : a), r.createdAt) : null,
    retryable: r.status === "failed" || (r.status === "queued" && r.attempts > 0),
  }));
  return { emails: page, nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null };
}

/**
 * "Retry now": a failed email (or one waiting out its backoff) is due again
 * at once with a fresh count of attempts. Refused while a worker holds it, and
 * for emails already sent. Audited.
 */
export async function retryEmail(deps: Deps, input: { id: string; actor: Actor }) {
  const now = deps.now();
  return deps.db.$transaction(async (tx) => {
    const before = await tx.outboxEmail.findUnique({ where: { id: input.id }, select: { status: true, attempts: true, lastError: true } });
    if (!before) throw AppError.notFound("email");
    const changed = await tx.outboxEmail.updateMany({
      where: { id: input.id, status: { in: ["failed", "queued"] }, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
      data: { status: "queued", attempts: 0, nextAttemptAt: now, leaseOwner: null, leaseUntil: null },
    });
    if (changed.count === 0) {
      if (before.status === "sent") throw AppError.conflict("This email was already sent.");
      if (before.status === "suppressed") throw AppError.conflict("The recipient unsubscribed; this email will not be sent.");
      throw AppError.conflict("This email is being sent right now; look again in a minute.");
    }
    await recordAudit(tx, { actor: input.actor, action: "outbox.retry", entityType: "outbox_email", entityId: input.id, details: { previousStatus: before.status, previousAttempts: before.attempts, lastError: before.lastError } });
    return tx.outboxEmail.findUniqueOrThrow({ where: { id: input.id } });
  });
}

/** The address behind an unsubscribe link, or null for a forged one. */
export async function findUnsubscribe(deps: Deps, token: string) {
  const row = await deps.db.outboxEmail.findUnique({ where: { unsubscribeToken: token }, select: { to: true } });
  return row ? { email: row.to } : null;
}

/**
 * One-click unsubscribe (RFC 8058): no more marketing mail to this address.
 * Idempotent; the insert relies on the key and ignores a concurrent duplicate.
 */
export async function unsubscribeByToken(deps: Deps, token: string) {
  const found = await findUnsubscribe(deps, token);
  if (!found) throw new AppError("link_invalid", 404, "This unsubscribe link is not valid.");
  try {
    await deps.db.$transaction(async (tx) => {
      await tx.emailSuppression.create({ data: { emailKey: suppressionKeyOf(found.email), createdAt: deps.now() } });
      await recordAudit(tx, { actor: { type: "shopper" }, action: "email.unsubscribe", entityType: "email_suppression", entityId: suppressionKeyOf(found.email) });
    });
  } catch (err) {
    if ((err as { code?: unknown }).code !== "P2002") throw err;
  }
  return found;
}

/** Emails waiting and emails that failed for good, for the admin home's banners. */
export async function countOutboxAttention(deps: Pick<Deps, "db">) {
  const [queued, failed] = await Promise.all([deps.db.outboxEmail.count({ where: { status: "queued" } }), deps.db.outboxEmail.count({ where: { status: "failed" } })]);
  return { queued, failed };
}
