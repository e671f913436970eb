import { parseMoney, minorToDecimal } from "../catalog/money.js";
import { formValue } from "../http/validate.js";
import type { FormBody, FormProblem } from "../catalog/product-form.js";

/**
 * The admin coupon form posts strings: amounts as decimals, dates from
 * datetime-local inputs (read as UTC), checkboxes as "on". This maps them to
 * what `CouponInput` validates, collecting the problems it can see itself.
 */
const str = (v: unknown) => formValue(v).trim();
const list = (v: unknown) => ([] as unknown[]).concat(v ?? []).map(String).filter(Boolean);

export function formToCouponInput(body: FormBody, currency: string) {
  const problems: FormProblem[] = [];
  const money = (field: string) => {
    const text = str(body[field]);
    if (!text) return null;
    const parsed = parseMoney(text, currency);
    if (!parsed.ok) problems.push({ field, message: parsed.message });
    return parsed.ok ? parsed.minor : null;
  };
  const int = (field: string) => {
    const text = str(body[field]);
    if (!text) return null;
    if (!/^\d{1,9}$/.test(text)) {
      problems.push({ field, message: `"${text}" is not a whole number.` });
      return null;
    }
    return Number(text);
  };
  const date = (field: string) => {
    const text = str(body[field]);
    if (!text) return null;
    const iso = /Z|[+-]\d\d:\d\d$/.test(text) ? text : `${text}${text.length === 16 ? ":00" : ""}Z`;
    if (Number.isNaN(Date.parse(iso))) {
      problems.push({ field, message: "A date and time like 2026-12-01 09:00." });
      return null;
    }
    return iso;
  };
  const kind = str(body.kind);
  const input = {
    code: str(body.code),
    description: str(body.description),
    kind,
    percentOff: kind === "percent" ? int("percentOff") : null,
    amountOffMinor: kind === "fixed" ? money("amountOff") : null,
    scope: str(body.scope) || "all",
    productIds: list(body.productIds),
    collectionSlugs: list(body.collectionSlugs),
    minSubtotalMinor: money("minSubtotal"),
    startsAt: date("startsAt"),
    endsAt: date("endsAt"),
    usageLimit: int("usageLimit"),
    perFollowerLimit: int("perFollowerLimit") ?? 1,
    minFollowDays: int("minFollowDays"),
    followersOnly: str(body.followersOnly) === "on",
    requiredVerification: str(body.requiredVerification) || "any",
    liveSessionId: str(body.liveSessionId) || null,
    stackable: str(body.stackable) === "on",
    status: str(body.status) || "active",
  };
  return { input, problems };
}

const toLocal = (d: Date | null) => (d ? d.toISOString().slice(0, 16) : "");

type StoredCoupon = {
  code: string; description: string; kind: string; percentOff: number | null; amountOffMinor: number | null; scope: string; minSubtotalMinor: number | null;
  startsAt: Date | null; endsAt: Date | null; usageLimit: number | null; perFollowerLimit: number; minFollowDays: number | null; followersOnly: boolean;
  requiredVerification: string; liveSessionId: string | null; stackable: boolean; status: string;
  products: { productId: string }[]; collections: { collection: { slug: string } }[];
};

/** A stored coupon as the JSON `CouponInput` takes: what an edit is applied to (applyEdit). */
export function couponAsInput(c: StoredCoupon) {
  return {
    code: c.code,
    description: c.description,
    kind: c.kind,
    percentOff: c.percentOff,
    amountOffMinor: c.amountOffMinor,
    scope: c.scope,
    productIds: c.products.map((p) => p.productId),
    collectionSlugs: c.collections.map((x) => x.collection.slug),
    minSubtotalMinor: c.minSubtotalMinor,
    startsAt: c.startsAt?.toISOString() ?? null,
    endsAt: c.endsAt?.toISOString() ?? null,
    usageLimit: c.usageLimit,
    perFollowerLimit: c.perFollowerLimit,
    minFollowDays: c.minFollowDays,
    followersOnly: c.followersOnly,
    requiredVerification: c.requiredVerification,
    liveSessionId: c.liveSessionId,
    stackable: c.stackable,
    status: c.status,
  };
}

/** A saved coupon as the strings the form shows. */
export function couponToForm(
  c: {
    code: string; description: string; kind: string; percentOff: number | null; amountOffMinor: number | null; scope: string; minSubtotalMinor: number | null;
    startsAt: Date | null; endsAt: Date | null; usageLimit: number | null; perFollowerLimit: number; minFollowDays: number | null; followersOnly: boolean;
    requiredVerification: string; liveSessionId: string | null; stackable: boolean; status: string;
    products: { productId: string }[]; collections: { collection: { slug: string } }[];
  } | null,
  currency: string,
): FormBody {
  if (!c) return { kind: "percent", scope: "all", perFollowerLimit: "1", requiredVerification: "any", status: "active" };
  return {
    code: c.code,
    description: c.description,
    kind: c.kind,
    percentOff: c.percentOff === null ? "" : String(c.percentOff),
    amountOff: c.amountOffMinor === null ? "" : minorToDecimal(c.amountOffMinor, currency),
    scope: c.scope,
    productIds: c.products.map((p) => p.productId),
    collectionSlugs: c.collections.map((x) => x.collection.slug),
    minSubtotal: c.minSubtotalMinor === null ? "" : minorToDecimal(c.minSubtotalMinor, currency),
    startsAt: toLocal(c.startsAt),
    endsAt: toLocal(c.endsAt),
    usageLimit: c.usageLimit === null ? "" : String(c.usageLimit),
    perFollowerLimit: String(c.perFollowerLimit),
    minFollowDays: c.minFollowDays === null ? "" : String(c.minFollowDays),
    followersOnly: c.followersOnly ? "on" : "",
    requiredVerification: c.requiredVerification,
    liveSessionId: c.liveSessionId ?? "",
    stackable: c.stackable ? "on" : "",
    status: c.status,
  };
}
