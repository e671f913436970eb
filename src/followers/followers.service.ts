import { createHash, randomInt } from "node:crypto";
import type * as CsvParse from "csv-parse/sync";
import { recordAudit, type Actor } from "../audit/audit.service.js";
import type { Prisma } from "../db/client.js";
import { containsText, dialectOf } from "../db/dialect.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { hadInvalidBytes } from "../http/well-formed.js";
import { translate, type Locale } from "../i18n/translate.js";
import { queueEmail } from "../mail/outbox.service.js";
import { signToken, verifyToken } from "../security/signed-token.js";
import { verificationOf, type FollowerFacts } from "../coupons/coupon-rules.js";
import { FollowerImportRow, type FollowerListInput, type FollowInput } from "./followers.schema.js";
import { lazyModule } from "../lazy.js";

const csvParse = lazyModule<typeof CsvParse>("csv-parse/sync");
import { handleKey, personKeyFor } from "./person-key.js";

const DAY = 24 * 3600 * 1000;
export const FOLLOWER_COOKIE = "bz_follower";
export const FOLLOWER_SESSION_DAYS = 180;
const CONFIRM_DAYS = 7;
const SIGNIN_MINUTES = 30;

/** Where links in emails start: the configured public URL only ("" = relative to the shop). */
const linkBase = (deps: Deps) => deps.shop.publicUrl ?? "";
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
/** Emails are compared by a hash, which survives a follower erasing their data. */
export const emailKeyOf = (email: string) => sha(`email:${email.trim().toLowerCase()}`);

/**
 * "Follow" form: records who says they follow us and emails a confirmation
 * link (double opt-in). Says the same thing whether or not the handle was
 * known, so the form cannot be used to probe who follows the shop.
 */
export async function requestFollow(deps: Deps, input: FollowInput & { locale?: Locale }) {
  const key = handleKey(input.handle);
  const now = deps.now();
  const secret = await deps.appSecret();
  return deps.db.$transaction(async (tx) => {
    const existing = await tx.follower.findUnique({ where: { platform_handleKey: { platform: input.platform, handleKey: key } } });
    const data = { email: input.email, emailKey: emailKeyOf(input.email), consentAt: now, handle: input.handle, locale: input.locale ?? null };
    const follower = existing
      ? await tx.follower.update({ where: { id: existing.id }, data: { ...data, status: existing.status === "active" ? "active" : "pending" } })
      : await tx.follower.create({ data: { ...data, platform: input.platform, handleKey: key, personKey: personKeyFor(input.platform, input.handle), status: "pending" } });
    const token = signToken(secret, { purpose: "follow-confirm", subject: follower.id, expiresAt: new Date(now.getTime() + CONFIRM_DAYS * DAY) });
    // Only the latest link works: its hash is stored and cleared when used.
    await tx.follower.update({ where: { id: follower.id }, data: { confirmTokenHash: sha(token) } });
    const locale = input.locale ?? deps.shop.locale;
    // Links come only from the configured public URL, never from the request's
    // Host header (anyone could make the shop mail a link to their own host).
    // Without one the link is relative: readable in the admin's outbox, which
    // is the only place it goes while the shop sends no email.
    await queueEmail(tx, {
      to: input.email,
      template: "follow_confirm",
      dedupeKey: `follow:${follower.id}:${sha(token).slice(0, 16)}`,
      subject: translate(locale, "email.follow.subject", { shop: deps.shop.name }),
      locale,
      linkBase: linkBase(deps),
      data: { shopName: deps.shop.name, handle: input.handle, platform: input.platform, confirmUrl: `${linkBase(deps)}/follow/confirm?token=${token}`, days: CONFIRM_DAYS },
    });
    return { followerId: follower.id, token };
  });
}

/**
 * The confirmation link: proves the email belongs to whoever asked. The
 * follow date becomes the confirmation time (or stays at the earlier date a
 * platform export showed). A forged, expired or already used link is refused.
 */
export async function confirmFollow(deps: Deps, input: { token: string }) {
  const now = deps.now();
  const claim = verifyToken(await deps.appSecret(), input.token, { purpose: "follow-confirm", now });
  if (!claim) throw new AppError("link_invalid", 400, "This confirmation link is not valid or has expired. Fill in the follow form again to get a new one.");
  return deps.db.$transaction(async (tx) => {
    const follower = await tx.follower.findUnique({ where: { id: claim.subject } });
    if (!follower || follower.confirmTokenHash !== sha(input.token)) {
      throw new AppError("link_used", 400, "This confirmation link was already used or replaced by a newer one.");
    }
    const followedAt = follower.status === "active" && follower.followedAt ? (follower.followedAt < now ? follower.followedAt : now) : now;
    // Conditional on the token: of two clicks racing on the same link, one confirms.
    const used = await tx.follower.updateMany({
      where: { id: follower.id, confirmTokenHash: sha(input.token) },
      data: { status: "active", emailConfirmedAt: now, followedAt, confirmTokenHash: null },
    });
    if (used.count !== 1) throw new AppError("link_used", 400, "This confirmation link was already used or replaced by a newer one.");
    const updated = await tx.follower.findUniqueOrThrow({ where: { id: follower.id } });
    await recordAudit(tx, { actor: { type: "shopper", id: follower.id }, action: "follower.confirm", entityType: "follower", entityId: follower.id });
    return updated;
  });
}

/** "Sign in as a follower" on a new browser: a one-time link to the confirmed email. */
export async function requestFollowerSignIn(deps: Deps, input: { email: string; locale?: Locale }) {
  const followers = await deps.db.follower.findMany({ where: { emailKey: emailKeyOf(input.email), emailConfirmedAt: { not: null }, status: "active" } });
  if (followers.length === 0) return;
  const now = deps.now();
  const token = signToken(await deps.appSecret(), { purpose: "follow-signin", subject: followers[0]!.id, expiresAt: new Date(now.getTime() + SIGNIN_MINUTES * 60_000) });
  const locale = input.locale ?? deps.shop.locale;
  await deps.db.$transaction((tx) =>
    queueEmail(tx, {
      to: input.email,
      template: "follow_signin",
      dedupeKey: `follow-signin:${sha(token).slice(0, 24)}`,
      subject: translate(locale, "email.signin.subject", { shop: deps.shop.name }),
      locale,
      linkBase: linkBase(deps),
      data: { shopName: deps.shop.name, signinUrl: `${linkBase(deps)}/follow/signin/confirm?token=${token}`, minutes: SIGNIN_MINUTES },
    }),
  );
}

export async function completeFollowerSignIn(deps: Deps, input: { token: string }) {
  const claim = verifyToken(await deps.appSecret(), input.token, { purpose: "follow-signin", now: deps.now() });
  const follower = claim ? await deps.db.follower.findUnique({ where: { id: claim.subject } }) : null;
  if (!follower || follower.status !== "active") throw new AppError("link_invalid", 400, "This sign-in link is not valid or has expired. Ask for a new one.");
  return follower;
}

/** The value of the follower cookie: who this browser belongs to, signed. */
export async function followerSessionToken(deps: Deps, followerId: string) {
  return signToken(await deps.appSecret(), { purpose: "follower-session", subject: followerId, expiresAt: new Date(deps.now().getTime() + FOLLOWER_SESSION_DAYS * DAY) });
}

export async function followerFromSession(deps: Deps, token: string | undefined) {
  if (!token) return null;
  const claim = verifyToken(await deps.appSecret(), token, { purpose: "follower-session", now: deps.now() });
  if (!claim) return null;
  const follower = await deps.db.follower.findUnique({ where: { id: claim.subject } });
  return follower && follower.status !== "erased" ? follower : null;
}

/** What coupon rules need to know about a follower. */
export function followerFacts(f: { id: string; personKey: string; status: string; followedAt: Date | null; emailConfirmedAt: Date | null; importedAt: Date | null }): FollowerFacts {
  return { id: f.id, personKey: f.personKey, status: f.status, followedAt: f.followedAt, verification: verificationOf(f) };
}

/** A long-lived link for the follower to unfollow, download or delete their data. */
export async function manageLinkToken(deps: Deps, followerId: string) {
  return signToken(await deps.appSecret(), { purpose: "follow-manage", subject: followerId, expiresAt: new Date(deps.now().getTime() + 365 * DAY) });
}

export async function followerFromManageToken(deps: Deps, token: string) {
  const claim = verifyToken(await deps.appSecret(), token, { purpose: "follow-manage", now: deps.now() });
  const follower = claim ? await deps.db.follower.findUnique({ where: { id: claim.subject } }) : null;
  if (!follower || follower.status === "erased") throw new AppError("link_invalid", 400, "This link is not valid any more.");
  return follower;
}

/**
 * Unfollowing keeps the row and its redemptions: following again later
 * starts a new follow date but never a new "once per follower" allowance.
 */
export async function unfollow(deps: Deps, input: { followerId: string; actor: Actor }) {
  await deps.db.$transaction(async (tx) => {
    await tx.follower.update({ where: { id: input.followerId }, data: { status: "unfollowed", followedAt: null } });
    await recordAudit(tx, { actor: input.actor, action: "follower.unfollow", entityType: "follower", entityId: input.followerId });
  });
}

export async function exportFollowerData(deps: Deps, input: { followerId: string }) {
  const f = await deps.db.follower.findUniqueOrThrow({
    where: { id: input.followerId },
    include: { redemptions: { select: { couponId: true, status: true, discountMinor: true, reservedAt: true, committedAt: true }, orderBy: [{ reservedAt: "asc" }, { id: "asc" }] }, personalCodes: { select: { code: true, usedAt: true }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] } },
  });
  return {
    platform: f.platform,
    handle: f.handle,
    email: f.email,
    status: f.status,
    consentAt: f.consentAt,
    emailConfirmedAt: f.emailConfirmedAt,
    importedAt: f.importedAt,
    followedAt: f.followedAt,
    redemptions: f.redemptions,
    personalCodes: f.personalCodes,
  };
}

/**
 * Erasure on request: name, handle and email go; what stays is the hashed
 * person key (and email hash) that keeps lifetime coupon limits honest, and
 * redemptions already reserved, so an order in checkout still completes.
 */
export async function eraseFollower(deps: Deps, input: { followerId: string; actor: Actor }) {
  await deps.db.$transaction(async (tx) => {
    await tx.follower.update({
      where: { id: input.followerId },
      data: { status: "erased", email: null, handle: "(erased)", handleKey: `erased:${input.followerId}`, consentAt: null, confirmTokenHash: null },
    });
    await recordAudit(tx, { actor: input.actor, action: "follower.erase", entityType: "follower", entityId: input.followerId });
  });
}

/** Every person key that is the same human: same handle, or same confirmed email. */
export async function personKeysOf(tx: Prisma.TransactionClient | Deps["db"], follower: { personKey: string; emailKey: string | null }) {
  if (!follower.emailKey) return [follower.personKey];
  const siblings = await tx.follower.findMany({ where: { emailKey: follower.emailKey }, select: { personKey: true } });
  return [...new Set([follower.personKey, ...siblings.map((s) => s.personKey)])];
}

export async function listFollowers(deps: Deps, input: FollowerListInput & { limit: number }) {
  const now = deps.now();
  const where: Prisma.FollowerWhereInput = {
    status: { not: "erased" },
    ...(input.platform ? { platform: input.platform } : {}),
    ...(input.verification === "email" ? { emailConfirmedAt: { not: null }, importedAt: null } : {}),
    ...(input.verification === "imported" ? { importedAt: { not: null }, emailConfirmedAt: null } : {}),
    ...(input.verification === "both" ? { importedAt: { not: null }, emailConfirmedAt: { not: null } } : {}),
    ...(input.minFollowDays ? { followedAt: { lte: new Date(now.getTime() - input.minFollowDays * DAY) } } : {}),
    ...(input.q ? { OR: [{ handleKey: { contains: input.q.toLowerCase().replace(/^@/, "") } }, { email: containsText(dialectOf(deps.db), input.q) }] } : {}),
  };
  const rows = await deps.db.follower.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: input.limit + 1, ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}) });
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((f) => ({
      ...f,
      verification: verificationOf(f),
      followDays: f.followedAt ? Math.floor((now.getTime() - f.followedAt.getTime()) / DAY) : null,
    })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]?.id : undefined,
    total: await deps.db.follower.count({ where }),
  };
}

export interface ImportProblem {
  line: number;
  column: string;
  message: string;
}

/**
 * Imports a platform's follower export (handle, platform, followed_at).
 * Matched to existing followers by platform + handle; the earlier follow date
 * wins. All rows or none; a dry run reports every problem with its line.
 */
export async function importFollowers(deps: Deps, input: { csv: string; dryRun: boolean; actor: Actor }) {
  let records: Record<string, string>[];
  try {
    records = csvParse().parse(input.csv.replace(/^\uFEFF/, ""), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase().replace(/[\s-]+/g, "_")), skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (err) {
    throw AppError.validation(`The file is not valid CSV: ${(err as Error).message}`, [{ line: (err as { lines?: number }).lines ?? 1, column: "", message: "malformed CSV" }]);
  }
  const problems: ImportProblem[] = [];
  // The caller decoded the bytes with markInvalidBytes(bytes, NOT_UTF8): a cell that was not UTF-8 holds the mark.
  records.forEach((r, i) => {
    for (const [column, cell] of Object.entries(r)) {
      if (hadInvalidBytes(column)) problems.push({ line: 1, column: "", message: "The header is not UTF-8 text. Save the file as CSV (UTF-8) and try again." });
      else if (hadInvalidBytes(cell)) problems.push({ line: i + 2, column, message: "This cell is not UTF-8 text. Save the file as CSV (UTF-8) and try again." });
    }
  });
  const first = records[0];
  for (const col of ["handle", "platform"]) {
    if (first && !(col in first)) problems.push({ line: 1, column: col, message: `Missing column "${col}".` });
  }
  const rows: { handle: string; platform: string; followedAt: Date | null }[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    const line = i + 2;
    const parsed = FollowerImportRow.safeParse({ handle: r.handle ?? "", platform: (r.platform ?? "").toLowerCase(), followedAt: r.followed_at ?? r.followedat ?? "" });
    if (!parsed.success) {
      // One problem per cell: the first thing to fix there.
      const cells = new Set<string>();
      for (const issue of parsed.error.issues) {
        const column = String(issue.path[0] === "followedAt" ? "followed_at" : issue.path[0]);
        if (!cells.has(column)) problems.push({ line, column, message: issue.message });
        cells.add(column);
      }
      return;
    }
    if (parsed.data.followedAt && parsed.data.followedAt > deps.now()) problems.push({ line, column: "followed_at", message: "A follow date cannot be in the future." });
    const key = `${parsed.data.platform}:${handleKey(parsed.data.handle)}`;
    if (seen.has(key)) problems.push({ line, column: "handle", message: `@${parsed.data.handle} appears twice for ${parsed.data.platform}.` });
    seen.add(key);
    rows.push(parsed.data);
  });
  if (problems.length > 0) return { ok: false as const, problems, created: 0, updated: 0 };
  if (input.dryRun) {
    const known = await deps.db.follower.count({ where: { OR: rows.map((r) => ({ platform: r.platform, handleKey: handleKey(r.handle) })) } });
    return { ok: true as const, problems: [], created: rows.length - known, updated: known, dryRun: true };
  }
  const now = deps.now();
  return deps.db.$transaction(async (tx) => {
    let created = 0;
    let updated = 0;
    for (const r of rows) {
      const key = handleKey(r.handle);
      const followedAt = r.followedAt ?? now;
      const existing = await tx.follower.findUnique({ where: { platform_handleKey: { platform: r.platform, handleKey: key } } });
      if (existing) {
        await tx.follower.update({
          where: { id: existing.id },
          data: {
            importedAt: existing.importedAt ?? now,
            status: existing.status === "pending" || existing.status === "active" ? "active" : existing.status,
            followedAt: existing.followedAt && existing.followedAt < followedAt ? existing.followedAt : followedAt,
          },
        });
        updated++;
      } else {
        await tx.follower.create({ data: { platform: r.platform, handle: r.handle, handleKey: key, personKey: personKeyFor(r.platform, r.handle), status: "active", importedAt: now, followedAt } });
        created++;
      }
    }
    await recordAudit(tx, { actor: input.actor, action: "follower.import", entityType: "follower", details: { created, updated } });
    return { ok: true as const, problems: [], created, updated, dryRun: false };
  });
}

/**
 * Unguessable code for personal coupons: 12 characters from a 31-letter
 * alphabet without look-alikes (~59 bits), drawn without modulo bias.
 */
export function randomCode(length = 12) {
  const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}
