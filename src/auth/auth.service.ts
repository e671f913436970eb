import type * as Argon2 from "@node-rs/argon2";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { lazyModule } from "../lazy.js";
import { hashToken, newSecret } from "./tokens.js";

const argon2 = lazyModule<typeof Argon2>("@node-rs/argon2");

export const SESSION_DAYS = 7;
const API_TOKEN_PREFIX = "bz_";

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
// `algorithm: 2` is Argon2id (a const enum in the typings, unusable under verbatimModuleSyntax).
const ARGON2 = { algorithm: 2 as const, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string) {
  return argon2().hash(password, ARGON2);
}

// Verified against when the email is unknown, so a wrong email costs the same
// time as a wrong password and does not reveal which admin emails exist.
let dummyHash: Promise<string> | undefined;

export async function createAdminUser(deps: Deps, input: { email: string; password: string; name?: string }) {
  return deps.db.adminUser.create({
    data: { email: input.email.toLowerCase(), name: input.name ?? "", passwordHash: await hashPassword(input.password) },
  });
}

/**
 * First start: when no admin exists, creates one with a generated password and
 * a first API token. Returns the plaintext once, for the console; only hashes
 * are stored.
 */
export async function ensureOwner(deps: Deps, email: string) {
  if ((await deps.db.adminUser.count()) > 0) return null;
  const password = newSecret().slice(0, 20);
  const admin = await createAdminUser(deps, { email, password, name: "Owner" });
  const { token } = await createApiToken(deps, { name: "First token", adminUserId: admin.id });
  return { email: admin.email, password, apiToken: token };
}

export async function authenticateAdmin(deps: Deps, input: { email: string; password: string }) {
  const admin = await deps.db.adminUser.findUnique({ where: { email: input.email.toLowerCase() } });
  if (!admin) {
    dummyHash ??= hashPassword(newSecret());
    await argon2().verify(await dummyHash, input.password).catch(() => false);
    return null;
  }
  const ok = await argon2().verify(admin.passwordHash, input.password).catch(() => false);
  if (!ok) return null;
  await deps.db.adminUser.update({ where: { id: admin.id }, data: { lastLoginAt: deps.now() } });
  return admin;
}

export async function createAdminSession(deps: Deps, input: { adminUserId: string; userAgent: string }) {
  const token = newSecret();
  const expiresAt = new Date(deps.now().getTime() + SESSION_DAYS * 24 * 3600 * 1000);
  await deps.db.adminSession.create({
    data: { tokenHash: hashToken(token), adminUserId: input.adminUserId, expiresAt, userAgent: input.userAgent.slice(0, 200) },
  });
  return { token, expiresAt };
}

export async function findAdminBySession(deps: Deps, token: string) {
  const session = await deps.db.adminSession.findUnique({ where: { tokenHash: hashToken(token) }, include: { adminUser: true } });
  if (!session || session.expiresAt <= deps.now()) return null;
  return session.adminUser;
}

export async function endAdminSession(deps: Deps, token: string) {
  await deps.db.adminSession.deleteMany({ where: { tokenHash: hashToken(token) } });
}

export async function createApiToken(deps: Deps, input: { name: string; adminUserId?: string | null }) {
  const token = newSecret(API_TOKEN_PREFIX);
  const row = await deps.db.apiToken.create({
    data: { name: input.name, prefix: token.slice(0, API_TOKEN_PREFIX.length + 6), tokenHash: hashToken(token), createdById: input.adminUserId ?? null },
  });
  return { token, apiToken: publicToken(row) };
}

export async function listApiTokens(deps: Deps) {
  const rows = await deps.db.apiToken.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  return rows.map(publicToken);
}

export async function revokeApiToken(deps: Deps, input: { id: string }) {
  const row = await deps.db.apiToken.findUnique({ where: { id: input.id } });
  if (!row) throw AppError.notFound("API token");
  if (row.revokedAt) return publicToken(row);
  return publicToken(await deps.db.apiToken.update({ where: { id: row.id }, data: { revokedAt: deps.now() } }));
}

/** Resolves a Bearer token; revoked and unknown tokens are the same 401. */
export async function authenticateApiToken(deps: Deps, token: string) {
  const row = await deps.db.apiToken.findUnique({ where: { tokenHash: hashToken(token) } });
  if (!row || row.revokedAt) return null;
  // Touch at most once a minute: a busy integration should not write on every call.
  const now = deps.now();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await deps.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return publicToken(row);
}

function publicToken(row: { id: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }) {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt, active: !row.revokedAt };
}
