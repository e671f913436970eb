import { createHash } from "node:crypto";

/** "@Sara.Makes " → "sara.makes": how handles are compared. */
export function handleKey(handle: string): string {
  return handle.trim().replace(/^@+/, "").toLowerCase();
}

/**
 * Stable identity of a follower for coupon limits. It outlives the follower
 * row (erasure keeps only this hash), so "once per follower for life" holds
 * after an unfollow, a re-follow or a data deletion.
 */
export function personKeyFor(platform: string, handle: string): string {
  return createHash("sha256").update(`${platform}:${handleKey(handle)}`).digest("hex");
}
