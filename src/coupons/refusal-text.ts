import { formatMoney } from "../i18n/format.js";
import { translateForPage, type Locale } from "../i18n/translate.js";
import type { RefusalReason } from "./coupons.service.js";

const dateFmt = (d: Date, locale: Locale) => new Intl.DateTimeFormat(locale === "fa" ? "fa-IR" : "en-US", { dateStyle: "long", timeZone: "UTC" }).format(d);

/** The exact reason a code was refused, in the shopper's language. */
export function refusalText(code: string, r: RefusalReason, locale: Locale, currency = "USD"): string {
  const t = (key: string, vars: Record<string, unknown> = {}) => translateForPage(locale, `coupon.refused.${key}`, { code, ...vars });
  switch (r.reason) {
    case "not_started": return t("not_started", { date: dateFmt(r.startsAt, locale) });
    case "expired": return t("expired", { date: dateFmt(r.endedAt, locale) });
    case "live_only": return t("live_only", { date: dateFmt(r.startsAt, locale) });
    case "follow_too_recent": return t("follow_too_recent", { date: dateFmt(r.eligibleAt, locale) });
    case "verification_too_low": return t(`verification_${r.required}`);
    case "min_subtotal": return t("min_subtotal", { amount: formatMoney(r.minSubtotalMinor, currency, locale), missing: formatMoney(r.missingMinor, currency, locale) });
    case "wrong_currency": return t("wrong_currency", { currency: r.currency });
    case "does_not_stack": return t("does_not_stack", { other: r.other });
    default: return t(r.reason);
  }
}
