import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Stateless signed tokens for links and cookies: `<payload>.<hmac>`, where the
 * payload names its purpose, subject and expiry. A token made for one purpose
 * (say, confirming a follow) is refused for another (signing in).
 */
export function signToken(secret: string, input: { purpose: string; subject: string; expiresAt: Date }): string {
  // The nonce makes every token distinct, even two issued in the same second.
  const payload = Buffer.from(JSON.stringify({ p: input.purpose, s: input.subject, e: Math.floor(input.expiresAt.getTime() / 1000), n: randomBytes(6).toString("base64url") })).toString("base64url");
  return `${payload}.${mac(secret, payload)}`;
}

export function verifyToken(secret: string, token: string, input: { purpose: string; now: Date }): { subject: string } | null {
  const [payload, sig] = token.split(".");
  if (!payload || !sig || sig.length > 64) return null;
  const expected = mac(secret, payload);
  if (sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) return null;
  try {
    const data = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { p?: string; s?: string; e?: number };
    if (data.p !== input.purpose || typeof data.s !== "string" || typeof data.e !== "number") return null;
    if (data.e * 1000 <= input.now.getTime()) return null;
    return { subject: data.s };
  } catch {
    return null;
  }
}

function mac(secret: string, payload: string) {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}
