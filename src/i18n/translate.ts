import { formatNumber } from "./format.js";
import { MESSAGE_SETS } from "./registry.js";

export const LOCALES = ["en", "fa"] as const;
export type Locale = (typeof LOCALES)[number];

function merge(locale: Locale): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const set of MESSAGE_SETS) {
    for (const [key, value] of Object.entries(set[locale])) {
      if (key in merged) throw new Error(`Message key "${key}" is defined twice`);
      merged[key] = value;
    }
  }
  return merged;
}

const catalogs: Record<Locale, Record<string, string>> = { en: merge("en"), fa: merge("fa") };

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

export function directionOf(locale: Locale): "rtl" | "ltr" {
  return locale === "fa" ? "rtl" : "ltr";
}

/**
 * Looks up a message and fills {placeholders}. Numbers are written in the
 * locale's digits, so Persian pages never show Latin digits by accident.
 * An unknown key renders as itself, which tests catch on the page.
 */
export function translate(locale: Locale, key: string, vars: Record<string, unknown> = {}): string {
  const template = catalogs[locale][key] ?? catalogs.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    if (typeof v === "number") return formatNumber(v, locale);
    return v === undefined || v === null ? "" : String(v);
  });
}
