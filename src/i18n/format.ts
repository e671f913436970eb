import type { Locale } from "./translate.js";

const INTL_LOCALE: Record<Locale, string> = { en: "en-US", fa: "fa-IR" };
const moneyFormats = new Map<string, Intl.NumberFormat>();
const numberFormats = new Map<Locale, Intl.NumberFormat>();

const digitsByCurrency = new Map<string, number>();

/** Minor-unit digits of a currency (USD 2, JPY 0, IRR 0 per Intl). */
export function currencyDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    // Building a NumberFormat costs ~40 µs; feeds ask once per item.
    digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

/** 1250, "USD", "en" → "$12.50"; in Persian the digits are Persian. */
export function formatMoney(amountMinor: number, currency: string, locale: Locale): string {
  const key = `${locale}:${currency}`;
  let fmt = moneyFormats.get(key);
  if (!fmt) {
    fmt = new Intl.NumberFormat(INTL_LOCALE[locale], { style: "currency", currency });
    moneyFormats.set(key, fmt);
  }
  return fmt.format(amountMinor / 10 ** currencyDigits(currency));
}

/** 1250, "USD" → "12.50 USD", the form feeds want (always ASCII digits, "." separator). */
export function formatFeedPrice(amountMinor: number, currency: string): string {
  const digits = currencyDigits(currency);
  const sign = amountMinor < 0 ? "-" : "";
  const abs = Math.abs(amountMinor);
  const whole = Math.floor(abs / 10 ** digits);
  const frac = digits > 0 ? `.${String(abs % 10 ** digits).padStart(digits, "0")}` : "";
  return `${sign}${whole}${frac} ${currency}`;
}

export function formatNumber(value: number, locale: Locale): string {
  let fmt = numberFormats.get(locale);
  if (!fmt) {
    fmt = new Intl.NumberFormat(INTL_LOCALE[locale]);
    numberFormats.set(locale, fmt);
  }
  return fmt.format(value);
}

export function intlLocale(locale: Locale): string {
  return INTL_LOCALE[locale];
}

const digitFormats = new Map<Locale, Intl.NumberFormat>();

/** An identifier such as an order number: the locale's digits, no grouping ("1001", "۱۰۰۱"). */
export function formatDigits(value: number, locale: Locale): string {
  let fmt = digitFormats.get(locale);
  if (!fmt) {
    fmt = new Intl.NumberFormat(INTL_LOCALE[locale], { useGrouping: false });
    digitFormats.set(locale, fmt);
  }
  return fmt.format(value);
}
