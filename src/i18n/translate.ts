import { en } from "./messages/en.js";
import { fa } from "./messages/fa.js";
import { formatNumber } from "./format.js";

export const LOCALES = ["en", "fa"] as const;
export type Locale = (typeof LOCALES)[number];
export type MessageKey = keyof typeof en;

const catalogs: Record<Locale, Record<string, string>> = { en, fa };

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

export function directionOf(locale: Locale): "rtl" | "ltr" {
  return locale === "fa" ? "rtl" : "ltr";
}

/**
 * Looks up a message and fills {placeholders}. Numbers are written in the
 * locale's digits, so Persian pages never show Latin digits by accident.
 * A key missing from a catalog falls back to English (a test keeps fa complete).
 */
export function translate(locale: Locale, key: string, vars: Record<string, unknown> = {}): string {
  const template = catalogs[locale][key] ?? en[key as MessageKey] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    if (typeof v === "number") return formatNumber(v, locale);
    return v === undefined || v === null ? "" : String(v);
  });
}
