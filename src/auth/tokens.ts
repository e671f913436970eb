import { createHash, randomBytes } from "node:crypto";

/** Random secret for a cookie or API token (256 bits, URL-safe). */
export function newSecret(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/**
 * Session and API tokens are high-entropy random strings, so a fast hash is
 * enough to make a stolen database useless (unlike passwords, which get argon2id).
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
