/**
 * Whether a coupon applies to a cart, and for how much. Pure: everything it
 * needs (the coupon, the cart lines, who the shopper is as a follower, the
 * counts of earlier uses, the clock) is passed in, so the same function runs
 * when a code is typed in the cart and again inside the checkout transaction.
 * A refusal carries one exact reason the shopper can act on.
 */

export type Verification = "none" | "email" | "imported" | "both";
export type RequiredVerification = "any" | "email" | "imported" | "both";

export interface CouponFacts {
  id: string;
  code: string;
  kind: string; // percent | fixed | free_shipping
  percentOff: number | null;
  amountOffMinor: number | null;
  currency: string | null;
  scope: string; // all | products | collections
  productIds: string[];
  collectionIds: string[];
  minSubtotalMinor: number | null;
  startsAt: Date | null;
  endsAt: Date | null;
  usageLimit: number | null;
  usedCount: number;
  perFollowerLimit: number;
  minFollowDays: number | null;
  followersOnly: boolean;
  requiredVerification: string;
  stackable: boolean;
  status: string;
  live: { startsAt: Date; endsAt: Date | null; status: string } | null;
}

export interface CartFacts {
  currency: string;
  lines: { productId: string; collectionIds: string[]; totalMinor: number }[];
}

export interface FollowerFacts {
  id: string;
  personKey: string;
  status: string;
  followedAt: Date | null;
  verification: Verification;
}

export type Refusal =
  | { reason: "disabled" }
  | { reason: "not_started"; startsAt: Date }
  | { reason: "expired"; endedAt: Date }
  | { reason: "live_only"; startsAt: Date; endsAt: Date | null }
  | { reason: "not_follower" }
  | { reason: "follow_too_recent"; eligibleAt: Date }
  | { reason: "verification_too_low"; required: RequiredVerification }
  | { reason: "limit_reached" }
  | { reason: "already_used" }
  | { reason: "min_subtotal"; minSubtotalMinor: number; missingMinor: number }
  | { reason: "not_applicable" }
  | { reason: "wrong_currency"; currency: string };

export type Evaluation = { ok: true; discountMinor: number; freeShipping: boolean; eligibleSubtotalMinor: number } | ({ ok: false } & Refusal);

const DAY = 24 * 3600 * 1000;

export function verificationOf(f: { emailConfirmedAt: Date | null; importedAt: Date | null }): Verification {
  if (f.emailConfirmedAt && f.importedAt) return "both";
  if (f.emailConfirmedAt) return "email";
  if (f.importedAt) return "imported";
  return "none";
}

function meets(have: Verification, need: string): boolean {
  switch (need) {
    case "email":
      return have === "email" || have === "both";
    case "imported":
      return have === "imported" || have === "both";
    case "both":
      return have === "both";
    default:
      return have !== "none";
  }
}

/**
 * The follower rules alone: an active follower, verified well enough, who
 * has followed long enough. Shared by coupons and by live shopping's
 * follower-only deals, so "follower" means the same everywhere.
 */
export function followerRefusal(
  rules: { requiredVerification: string; minFollowDays: number | null },
  follower: FollowerFacts | null,
  now: Date,
): Extract<Refusal, { reason: "not_follower" | "verification_too_low" | "follow_too_recent" }> | null {
  if (!follower || follower.status !== "active") return { reason: "not_follower" };
  if (!meets(follower.verification, rules.requiredVerification)) {
    return { reason: "verification_too_low", required: rules.requiredVerification as RequiredVerification };
  }
  if (rules.minFollowDays && rules.minFollowDays > 0) {
    const since = follower.followedAt ?? now;
    const eligibleAt = new Date(since.getTime() + rules.minFollowDays * DAY);
    if (now < eligibleAt) return { reason: "follow_too_recent", eligibleAt };
  }
  return null;
}

export function evaluateCoupon(input: {
  coupon: CouponFacts;
  cart: CartFacts;
  follower: FollowerFacts | null;
  /** Reserved + committed uses by this follower (personKey) of this coupon. */
  followerUses: number;
  /** Set when the code typed is a personal code. */
  personalCode: { usedAt: Date | null; followerId: string | null } | null;
  now: Date;
}): Evaluation {
  const { coupon, cart, follower, now } = input;
  if (coupon.status !== "active") return { ok: false, reason: "disabled" };
  if (coupon.startsAt && now < coupon.startsAt) return { ok: false, reason: "not_started", startsAt: coupon.startsAt };
  if (coupon.endsAt && now >= coupon.endsAt) return { ok: false, reason: "expired", endedAt: coupon.endsAt };
  if (coupon.live) {
    const ended = coupon.live.status === "ended" || (coupon.live.endsAt !== null && now >= coupon.live.endsAt);
    const started = coupon.live.status === "live" || now >= coupon.live.startsAt;
    if (!started || ended) return { ok: false, reason: "live_only", startsAt: coupon.live.startsAt, endsAt: coupon.live.endsAt };
  }
  if (input.personalCode) {
    if (input.personalCode.usedAt) return { ok: false, reason: "already_used" };
    // A personal code is the follower's own credential: whoever holds it is that follower.
  }
  const needsFollower = coupon.followersOnly || input.personalCode !== null;
  if (needsFollower) {
    if (input.personalCode?.followerId && follower && input.personalCode.followerId !== follower.id) return { ok: false, reason: "not_follower" };
    const refused = followerRefusal(coupon, follower, now);
    if (refused) return { ok: false, ...refused };
  }
  if (coupon.usageLimit !== null && coupon.usedCount >= coupon.usageLimit) return { ok: false, reason: "limit_reached" };
  if (follower && input.followerUses >= coupon.perFollowerLimit) return { ok: false, reason: "already_used" };

  const subtotal = cart.lines.reduce((n, l) => n + l.totalMinor, 0);
  if (coupon.minSubtotalMinor !== null && subtotal < coupon.minSubtotalMinor) {
    return { ok: false, reason: "min_subtotal", minSubtotalMinor: coupon.minSubtotalMinor, missingMinor: coupon.minSubtotalMinor - subtotal };
  }
  const eligible = cart.lines.filter((l) =>
    coupon.scope === "products" ? coupon.productIds.includes(l.productId) : coupon.scope === "collections" ? l.collectionIds.some((c) => coupon.collectionIds.includes(c)) : true,
  );
  const eligibleSubtotalMinor = eligible.reduce((n, l) => n + l.totalMinor, 0);
  if (eligible.length === 0 || eligibleSubtotalMinor === 0) return { ok: false, reason: "not_applicable" };

  switch (coupon.kind) {
    case "percent": {
      // Rounded down: a discount never exceeds the stated percentage.
      const discountMinor = Math.floor((eligibleSubtotalMinor * (coupon.percentOff ?? 0)) / 100);
      return { ok: true, discountMinor, freeShipping: false, eligibleSubtotalMinor };
    }
    case "fixed": {
      if (coupon.currency && coupon.currency !== cart.currency) return { ok: false, reason: "wrong_currency", currency: coupon.currency };
      return { ok: true, discountMinor: Math.min(coupon.amountOffMinor ?? 0, eligibleSubtotalMinor), freeShipping: false, eligibleSubtotalMinor };
    }
    case "free_shipping":
      return { ok: true, discountMinor: 0, freeShipping: true, eligibleSubtotalMinor };
    default:
      return { ok: false, reason: "not_applicable" };
  }
}

/**
 * Several coupons on one order: only when every one of them stacks. The
 * combined discount never exceeds the subtotal.
 */
export function combineDiscounts(applied: { code: string; stackable: boolean; discountMinor: number; freeShipping: boolean }[], subtotalMinor: number) {
  if (applied.length > 1) {
    const loner = applied.find((a) => !a.stackable);
    if (loner) return { ok: false as const, loner: loner.code };
  }
  const discountMinor = Math.min(subtotalMinor, applied.reduce((n, a) => n + a.discountMinor, 0));
  return { ok: true as const, discountMinor, freeShipping: applied.some((a) => a.freeShipping) };
}
