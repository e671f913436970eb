import { createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { queueEmail } from "../mail/outbox.service.js";
import { reminderEmail } from "./live.mail.js";
import { appendLiveEventInTx, wakeLiveStreams } from "./live.events.js";
import type { FlashInputT, ItemInputT, ItemPatchT, SessionInputT, SessionPatchT } from "./live.schema.js";

type Tx = Prisma.TransactionClient;

/**
 * Live sessions and the run of show: create, lineup, start, feature, pin,
 * flash deals, questions, end. Every change viewers must see writes an event
 * to the session's log in the same transaction and wakes the streams after
 * it commits (see live.events.ts).
 *
 * Lock order inside a transaction (PostgreSQL): live item, then variants,
 * then the session row (the event log's sequence). The host's actions touch
 * items before the session for the same reason.
 */

const CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
function randomLiveCode() {
  let code = "";
  for (let i = 0; i < 10; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** Runs a transaction that writes live events, then wakes every instance's streams. */
export async function liveTx<T>(deps: Deps, sessionId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const result = await deps.db.$transaction(fn, { maxWait: 30_000, timeout: 30_000 });
  await wakeLiveStreams(deps, sessionId);
  return result;
}

export async function findSessionByCode(deps: Deps, code: string) {
  return deps.db.liveSession.findUnique({ where: { code } });
}

export async function requireSession(db: Tx | Deps["db"], id: string) {
  const session = await db.liveSession.findUnique({ where: { id } });
  if (!session) throw AppError.notFound("live session");
  return session;
}

// ───────────── sessions ─────────────

export async function createLiveSession(deps: Deps, input: { session: SessionInputT; actor: Actor }) {
  const s = input.session;
  return deps.db.$transaction(async (tx) => {
    const code = s.code ?? randomLiveCode();
    if (await tx.liveSession.findUnique({ where: { code }, select: { id: true } })) {
      throw AppError.conflict(`The address /live/${code} is taken; choose another code.`, [{ field: "code", message: "already in use" }]);
    }
    const session = await tx.liveSession.create({
      data: { title: s.title, hostName: s.hostName, platform: s.platform, startsAt: s.startsAt, holdMinutes: s.holdMinutes, streamUrl: s.streamUrl, replayUrl: s.replayUrl, code, createdAt: deps.now() },
    });
    await recordAudit(tx, { actor: input.actor, action: "live.create", entityType: "live_session", entityId: session.id, details: { code } });
    return session;
  });
}

/** Changes exactly the fields named in the patch. */
export async function updateLiveSession(deps: Deps, input: { id: string; patch: SessionPatchT; actor: Actor }) {
  return liveTx(deps, input.id, async (tx) => {
    await requireSession(tx, input.id);
    const data = Object.fromEntries(Object.entries(input.patch).filter(([, v]) => v !== undefined));
    const session = await tx.liveSession.update({ where: { id: input.id }, data });
    await appendLiveEventInTx(tx, deps, { sessionId: session.id, type: "session", data: { reason: "edited" } });
    await recordAudit(tx, { actor: input.actor, action: "live.update", entityType: "live_session", entityId: session.id, details: { fields: Object.keys(data) } });
    return session;
  });
}

export async function listLiveSessions(deps: Deps) {
  return deps.db.liveSession.findMany({
    orderBy: [{ startsAt: "desc" }, { id: "desc" }],
    take: 200,
    include: { _count: { select: { items: true, claims: true } } },
  });
}

/** The session with its lineup (product, variants, first image), in show order. */
export async function getLiveSessionWithLineup(db: Tx | Deps["db"], where: { id: string } | { code: string }, locale = "en") {
  return db.liveSession.findUnique({
    where,
    include: {
      items: {
        orderBy: [{ position: "asc" }, { id: "asc" }],
        include: {
          product: {
            include: {
              translations: { where: { locale } },
              variants: { where: { archivedAt: null }, orderBy: [{ position: "asc" }, { id: "asc" }] },
              images: { orderBy: [{ position: "asc" }, { id: "asc" }], take: 1, include: { media: true } },
            },
          },
        },
      },
    },
  });
}

// ───────────── lineup ─────────────

export async function addLiveItem(deps: Deps, input: { sessionId: string; item: ItemInputT; actor: Actor }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const session = await requireSession(tx, input.sessionId);
    if (session.status === "ended") throw AppError.conflict("The show has ended; its lineup can no longer change.");
    const product = await tx.product.findUnique({ where: { id: input.item.productId }, include: { variants: { where: { archivedAt: null }, select: { priceMinor: true, currency: true } } } });
    if (!product || product.status === "archived") throw AppError.validation("productId: no such product, or it is archived.", [{ field: "productId", message: "unknown product" }]);
    checkPrices(input.item, product.variants);
    const code = input.item.claimCode.toUpperCase();
    const clash = await tx.liveItem.findFirst({ where: { liveSessionId: session.id, OR: [{ claimCode: code }, { productId: product.id }] }, select: { claimCode: true } });
    if (clash) {
      throw clash.claimCode === code
        ? AppError.conflict(`Claim code ${code} is already used in this show.`, [{ field: "claimCode", message: "already used" }])
        : AppError.conflict("This product is already in the lineup.", [{ field: "productId", message: "already in the lineup" }]);
    }
    const last = await tx.liveItem.findFirst({ where: { liveSessionId: session.id }, orderBy: [{ position: "desc" }, { id: "desc" }], select: { position: true } });
    const { position, claimCode: _c, ...fields } = input.item;
    const item = await tx.liveItem.create({ data: { ...fields, claimCode: code, liveSessionId: session.id, position: position ?? (last ? last.position + 1 : 0) } });
    await appendLiveEventInTx(tx, deps, { sessionId: session.id, type: "lineup", data: { itemId: item.id } });
    await recordAudit(tx, { actor: input.actor, action: "live.item_add", entityType: "live_session", entityId: session.id, details: { itemId: item.id, code } });
    return item;
  });
}

function checkPrices(item: { livePriceMinor?: number | null; followerPriceMinor?: number | null }, variants: { priceMinor: number }[]) {
  const lowest = Math.min(...variants.map((v) => v.priceMinor));
  if (item.livePriceMinor != null && variants.length > 0 && item.livePriceMinor > lowest) {
    throw AppError.validation(`livePriceMinor: a live price above the regular price (${lowest}) is not a deal.`, [{ field: "livePriceMinor", message: `at most ${lowest}` }]);
  }
  if (item.followerPriceMinor != null && variants.length > 0 && item.followerPriceMinor > lowest) {
    throw AppError.validation(`followerPriceMinor: a follower price above the regular price (${lowest}) is not a deal.`, [{ field: "followerPriceMinor", message: `at most ${lowest}` }]);
  }
}

export async function updateLiveItem(deps: Deps, input: { sessionId: string; itemId: string; patch: ItemPatchT; actor: Actor }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const item = await tx.liveItem.findFirst({ where: { id: input.itemId, liveSessionId: input.sessionId }, include: { product: { include: { variants: { where: { archivedAt: null }, select: { priceMinor: true } } } } } });
    if (!item) throw AppError.notFound("lineup item");
    const data = Object.fromEntries(Object.entries(input.patch).filter(([, v]) => v !== undefined)) as ItemPatchT;
    checkPrices({ livePriceMinor: data.livePriceMinor === undefined ? item.livePriceMinor : data.livePriceMinor, followerPriceMinor: data.followerPriceMinor === undefined ? item.followerPriceMinor : data.followerPriceMinor }, item.product.variants);
    if (data.claimCode) {
      data.claimCode = data.claimCode.toUpperCase();
      const clash = await tx.liveItem.findFirst({ where: { liveSessionId: input.sessionId, claimCode: data.claimCode, id: { not: item.id } }, select: { id: true } });
      if (clash) throw AppError.conflict(`Claim code ${data.claimCode} is already used in this show.`, [{ field: "claimCode", message: "already used" }]);
    }
    const updated = await tx.liveItem.update({ where: { id: item.id }, data });
    await appendLiveEventInTx(tx, deps, { sessionId: input.sessionId, type: "lineup", data: { itemId: item.id } });
    await recordAudit(tx, { actor: input.actor, action: "live.item_update", entityType: "live_session", entityId: input.sessionId, details: { itemId: item.id, fields: Object.keys(data) } });
    return updated;
  });
}

/** Only an item nobody has claimed can leave the lineup (its claims and stats refer to it). */
export async function removeLiveItem(deps: Deps, input: { sessionId: string; itemId: string; actor: Actor }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const item = await tx.liveItem.findFirst({ where: { id: input.itemId, liveSessionId: input.sessionId } });
    if (!item) throw AppError.notFound("lineup item");
    if ((await tx.liveClaim.count({ where: { itemId: item.id } })) > 0) throw AppError.conflict("Viewers have claimed this item; it stays in the lineup.");
    await tx.liveItem.delete({ where: { id: item.id } });
    await tx.liveSession.updateMany({ where: { id: input.sessionId, featuredProductId: item.productId }, data: { featuredProductId: null, featuredAt: null } });
    await appendLiveEventInTx(tx, deps, { sessionId: input.sessionId, type: "lineup", data: { itemId: item.id, removed: true } });
    await recordAudit(tx, { actor: input.actor, action: "live.item_remove", entityType: "live_session", entityId: input.sessionId, details: { itemId: item.id } });
  });
}

// ───────────── run of show ─────────────

/** scheduled → live. Features the first item if nothing is featured yet. */
export async function startLiveSession(deps: Deps, input: { id: string; actor: Actor }) {
  const now = deps.now();
  const session = await liveTx(deps, input.id, async (tx) => {
    const first = await tx.liveItem.findFirst({ where: { liveSessionId: input.id }, orderBy: [{ position: "asc" }, { id: "asc" }] });
    if (first) await tx.liveItem.update({ where: { id: first.id }, data: { featuredAt: now } });
    const started = await tx.liveSession.updateMany({ where: { id: input.id, status: "scheduled" }, data: { status: "live", startedAt: now } });
    if (started.count !== 1) {
      const s = await requireSession(tx, input.id);
      throw new AppError("not_scheduled", 409, s.status === "live" ? "The show is already live." : "The show has ended; it cannot start again.");
    }
    await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "status", data: { status: "live" } });
    if (first) {
      await tx.liveSession.update({ where: { id: input.id }, data: { featuredProductId: first.productId, featuredAt: now } });
      await tx.liveFeature.create({ data: { liveSessionId: input.id, itemId: first.id, at: now } });
      await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "featured", data: { itemId: first.id, productId: first.productId } });
    }
    await recordAudit(tx, { actor: input.actor, action: "live.start", entityType: "live_session", entityId: input.id });
    return tx.liveSession.findUniqueOrThrow({ where: { id: input.id } });
  });
  return session;
}

/** live → ended. Running flash deals end with it; claims already held keep their holds (and their price). */
export async function endLiveSession(deps: Deps, input: { id: string; actor: Actor }) {
  const now = deps.now();
  return liveTx(deps, input.id, async (tx) => {
    const ended = await tx.liveSession.updateMany({ where: { id: input.id, status: "live" }, data: { status: "ended", endedAt: now, endsAt: now } });
    if (ended.count !== 1) {
      const s = await requireSession(tx, input.id);
      throw new AppError("not_live", 409, s.status === "ended" ? "The show has already ended." : "The show has not started.");
    }
    await tx.liveFlashDeal.updateMany({ where: { liveSessionId: input.id, endsAt: { gt: now } }, data: { endsAt: now, stoppedAt: now, endAnnouncedAt: now } });
    await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "status", data: { status: "ended" } });
    await recordAudit(tx, { actor: input.actor, action: "live.end", entityType: "live_session", entityId: input.id });
    return tx.liveSession.findUniqueOrThrow({ where: { id: input.id } });
  });
}

/** Puts a lineup item on every viewer's screen. Only while live; only items of this show. */
export async function featureLiveItem(deps: Deps, input: { id: string; itemId: string; actor: Actor }) {
  const now = deps.now();
  return liveTx(deps, input.id, async (tx) => {
    const item = await tx.liveItem.findFirst({ where: { id: input.itemId, liveSessionId: input.id } });
    if (!item) {
      await requireSession(tx, input.id);
      throw AppError.validation("itemId: this item is not in the show's lineup.", [{ field: "itemId", message: "not in the lineup" }]);
    }
    await tx.liveItem.update({ where: { id: item.id }, data: { featuredAt: now } });
    const featured = await tx.liveSession.updateMany({ where: { id: input.id, status: "live" }, data: { featuredProductId: item.productId, featuredAt: now } });
    if (featured.count !== 1) throw new AppError("not_live", 409, "Items can be featured only while the show is live.");
    await tx.liveFeature.create({ data: { liveSessionId: input.id, itemId: item.id, at: now } });
    await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "featured", data: { itemId: item.id, productId: item.productId } });
    await recordAudit(tx, { actor: input.actor, action: "live.feature", entityType: "live_session", entityId: input.id, details: { itemId: item.id } });
    return item;
  });
}

/** The host's one tap: the item after the featured one (wrapping to the first). */
export async function featureNextItem(deps: Deps, input: { id: string; actor: Actor }) {
  const session = await requireSession(deps.db, input.id);
  const items = await deps.db.liveItem.findMany({ where: { liveSessionId: input.id }, orderBy: [{ position: "asc" }, { id: "asc" }], select: { id: true, productId: true } });
  if (items.length === 0) throw AppError.conflict("The lineup is empty: add products first.");
  const at = items.findIndex((i) => i.productId === session.featuredProductId);
  const next = items[(at + 1) % items.length]!;
  return featureLiveItem(deps, { id: input.id, itemId: next.id, actor: input.actor });
}

export async function pinLiveMessage(deps: Deps, input: { id: string; message: string; actor: Actor }) {
  return liveTx(deps, input.id, async (tx) => {
    const session = await requireSession(tx, input.id);
    if (session.status === "ended") throw new AppError("not_live", 409, "The show has ended.");
    await tx.liveSession.update({ where: { id: input.id }, data: { pinnedMessage: input.message } });
    await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "pin", data: { message: input.message } });
    await recordAudit(tx, { actor: input.actor, action: "live.pin", entityType: "live_session", entityId: input.id });
  });
}

// ───────────── flash deals ─────────────

/** A flash deal runs 10–300 s on one lineup item; one at a time per show. */
export async function startFlashDeal(deps: Deps, input: { id: string; deal: FlashInputT; actor: Actor }) {
  const now = deps.now();
  return liveTx(deps, input.id, async (tx) => {
    const item = await tx.liveItem.findFirst({ where: { id: input.deal.itemId, liveSessionId: input.id }, include: { product: { include: { variants: { where: { archivedAt: null }, select: { priceMinor: true } } } } } });
    if (!item) {
      await requireSession(tx, input.id);
      throw AppError.validation("itemId: this item is not in the show's lineup.", [{ field: "itemId", message: "not in the lineup" }]);
    }
    const lowest = Math.min(...item.product.variants.map((v) => v.priceMinor));
    if (input.deal.priceMinor >= lowest) throw AppError.validation(`priceMinor: a flash price must be below the regular price (${lowest}).`, [{ field: "priceMinor", message: `below ${lowest}` }]);
    // Lock the session row (a no-op update): two hosts starting deals at once cannot both pass the check below.
    const locked = await tx.liveSession.updateMany({ where: { id: input.id, status: "live" }, data: { eventSeq: { increment: 0 } } });
    if (locked.count !== 1) throw new AppError("not_live", 409, "Flash deals run only while the show is live.");
    const running = await tx.liveFlashDeal.findFirst({ where: { liveSessionId: input.id, endsAt: { gt: now } } });
    if (running) throw AppError.conflict("A flash deal is already running; stop it first.", [{ field: "itemId", message: "a deal is running" }]);
    const { seconds, ...fields } = input.deal;
    const deal = await tx.liveFlashDeal.create({ data: { ...fields, liveSessionId: input.id, startsAt: now, endsAt: new Date(now.getTime() + seconds * 1000), createdAt: now } });
    await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "flash", data: flashData(deal, deal.unitCap) });
    await recordAudit(tx, { actor: input.actor, action: "live.flash_start", entityType: "live_session", entityId: input.id, details: { dealId: deal.id, itemId: item.id } });
    return deal;
  });
}

export function flashData(deal: { id: string; itemId: string; priceMinor: number; endsAt: Date; unitCap: number; perBuyerLimit: number; followersOnly: boolean }, left: number) {
  return { itemId: deal.itemId, dealId: deal.id, priceMinor: deal.priceMinor, endsAt: deal.endsAt.toISOString(), unitCap: deal.unitCap, left, perBuyerLimit: deal.perBuyerLimit, followersOnly: deal.followersOnly };
}

export async function stopFlashDeal(deps: Deps, input: { id: string; actor: Actor }) {
  const now = deps.now();
  return liveTx(deps, input.id, async (tx) => {
    await requireSession(tx, input.id);
    const running = await tx.liveFlashDeal.findFirst({ where: { liveSessionId: input.id, endsAt: { gt: now } } });
    if (!running) throw AppError.conflict("No flash deal is running.");
    const stopped = await tx.liveFlashDeal.updateMany({ where: { id: running.id, endsAt: { gt: now } }, data: { endsAt: now, stoppedAt: now, endAnnouncedAt: now } });
    if (stopped.count === 1) await appendLiveEventInTx(tx, deps, { sessionId: input.id, type: "flash_end", data: { itemId: running.itemId, dealId: running.id } });
    await recordAudit(tx, { actor: input.actor, action: "live.flash_stop", entityType: "live_session", entityId: input.id, details: { dealId: running.id } });
  });
}

/**
 * Flash deals whose time ran out: tell the viewers (once per deal). The
 * price itself went back at `endsAt` whether or not this has run, because
 * prices are computed from the clock; this only updates open pages.
 */
export async function announceEndedFlashDeals(deps: Deps) {
  const now = deps.now();
  const due = await deps.db.liveFlashDeal.findMany({ where: { endsAt: { lte: now }, endAnnouncedAt: null }, orderBy: [{ endsAt: "asc" }, { id: "asc" }], take: 100 });
  for (const deal of due) {
    await liveTx(deps, deal.liveSessionId, async (tx) => {
      const marked = await tx.liveFlashDeal.updateMany({ where: { id: deal.id, endAnnouncedAt: null }, data: { endAnnouncedAt: now } });
      if (marked.count === 1) await appendLiveEventInTx(tx, deps, { sessionId: deal.liveSessionId, type: "flash_end", data: { itemId: deal.itemId, dealId: deal.id } });
    });
  }
  return due.length;
}

// ───────────── questions ─────────────

export async function askLiveQuestion(deps: Deps, input: { sessionId: string; name: string; text: string; visitorId: string }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const session = await requireSession(tx, input.sessionId);
    if (session.status !== "live") throw new AppError("not_live", 409, "Questions can be asked while the show is live.");
    const open = await tx.liveQuestion.count({ where: { liveSessionId: session.id, visitorId: input.visitorId, answeredAt: null, hiddenAt: null } });
    if (open >= 3) throw new AppError("too_many_questions", 429, "You have 3 questions waiting for an answer; wait for the host to answer one.");
    const q = await tx.liveQuestion.create({ data: { liveSessionId: session.id, name: input.name, text: input.text, visitorId: input.visitorId, createdAt: deps.now() } });
    await appendLiveEventInTx(tx, deps, { sessionId: session.id, type: "question_new", data: { id: q.id }, audience: "host" });
    return q;
  });
}

export async function answerLiveQuestion(deps: Deps, input: { sessionId: string; questionId: string; answer: string; actor: Actor }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const q = await tx.liveQuestion.findFirst({ where: { id: input.questionId, liveSessionId: input.sessionId } });
    if (!q) throw AppError.notFound("question");
    const answered = await tx.liveQuestion.update({ where: { id: q.id }, data: { answer: input.answer, answeredAt: deps.now(), hiddenAt: null } });
    await appendLiveEventInTx(tx, deps, { sessionId: input.sessionId, type: "question", data: { id: q.id, name: q.name, text: q.text, answer: input.answer } });
    await recordAudit(tx, { actor: input.actor, action: "live.answer", entityType: "live_session", entityId: input.sessionId, details: { questionId: q.id } });
    return answered;
  });
}

export async function hideLiveQuestion(deps: Deps, input: { sessionId: string; questionId: string; actor: Actor }) {
  return liveTx(deps, input.sessionId, async (tx) => {
    const hidden = await tx.liveQuestion.updateMany({ where: { id: input.questionId, liveSessionId: input.sessionId }, data: { hiddenAt: deps.now() } });
    if (hidden.count !== 1) throw AppError.notFound("question");
    await appendLiveEventInTx(tx, deps, { sessionId: input.sessionId, type: "question_hidden", data: { id: input.questionId } });
  });
}

// ───────────── remind me ─────────────

/** One reminder per email per show (a second "remind me" changes nothing). */
export async function addLiveReminder(deps: Deps, input: { sessionId: string; email: string; followerId: string | null; locale: string }) {
  const session = await requireSession(deps.db, input.sessionId);
  if (session.status !== "scheduled") throw new AppError("not_scheduled", 409, session.status === "live" ? "The show is live now: watch it here." : "The show has ended.");
  const email = input.email.trim().toLowerCase();
  const id = `r${randomBytes(12).toString("hex")}`;
  // Insert-or-nothing on the unique (session, email): a double submit on PostgreSQL cannot fail with a unique violation.
  await deps.db.$executeRaw`INSERT INTO "LiveReminder" ("id", "liveSessionId", "email", "followerId", "locale", "createdAt") VALUES (${id}, ${session.id}, ${email}, ${input.followerId}, ${input.locale}, ${deps.now()}) ON CONFLICT ("liveSessionId", "email") DO NOTHING`;
}

/**
 * Queues the "we're live" email for shows that have started, in chunks of
 * `chunk` reminders (one transaction each, the outbox row and the mark
 * together, deduped per reminder). Returns how many were queued.
 */
export async function queueLiveReminders(deps: Deps, opts: { chunk?: number; linkBase?: string; signal?: AbortSignal; maxChunks?: number } = {}) {
  const chunk = opts.chunk ?? 200;
  let chunks = 0;
  const base = opts.linkBase ?? deps.shop.publicUrl ?? "";
  let queued = 0;
  for (;;) {
    if (opts.signal?.aborted || (opts.maxChunks !== undefined && chunks >= opts.maxChunks)) break;
    chunks += 1;
    const due = await deps.db.liveReminder.findMany({
      where: { queuedAt: null, liveSession: { status: "live" } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: chunk,
      include: { liveSession: { select: { title: true, code: true, hostName: true } } },
    });
    if (due.length === 0) break;
    await deps.db.$transaction(async (tx) => {
      for (const r of due) {
        const marked = await tx.liveReminder.updateMany({ where: { id: r.id, queuedAt: null }, data: { queuedAt: deps.now() } });
        if (marked.count !== 1) continue;
        const mail = reminderEmail({ locale: r.locale, title: r.liveSession.title, hostName: r.liveSession.hostName, url: `${base}/live/${r.liveSession.code}` });
        await queueEmail(tx, { to: r.email, template: "live.reminder", dedupeKey: `live-reminder:${r.id}`, subject: mail.subject, text: mail.text });
        queued += 1;
      }
    });
    if (due.length < chunk) break;
  }
  return queued;
}

// ───────────── personal links ─────────────

/**
 * The personal checkout link of one claimant in one show:
 * `/live/:code/pay/<claimant, base64url>.<HMAC>`. It is the only credential
 * (like an order link): it shows that claimant's held items and pays for
 * them. Web viewers are stored as a hash of their cookie, so a forwarded link
 * never reveals the cookie itself.
 */
export async function payToken(deps: Deps, sessionId: string, claimant: string) {
  const mac = createHmac("sha256", await deps.appSecret()).update(`live-pay:${sessionId}:${claimant}`).digest("base64url").slice(0, 32);
  return `${Buffer.from(claimant, "utf8").toString("base64url")}.${mac}`;
}

export async function claimantFromPayToken(deps: Deps, sessionId: string, token: string): Promise<string | null> {
  const dot = token.indexOf(".");
  if (dot <= 0) return null;
  const claimant = Buffer.from(token.slice(0, dot), "base64url").toString("utf8");
  const expected = await payToken(deps, sessionId, claimant);
  const a = Buffer.from(expected);
  const b = Buffer.from(token);
  if (a.length !== b.length) return null;
  return timingSafeEqual(a, b) ? claimant : null;
}
