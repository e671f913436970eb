import { formatNumber, intlLocale } from "./format.js";
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

const pluralRules = new Map<Locale, Intl.PluralRules>();

function pluralCategory(locale: Locale, n: number): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(intlLocale(locale));
    pluralRules.set(locale, rules);
  }
  return rules.select(n);
}

const PLURAL_START = /\{(\w+),\s*plural,/g;

/**
 * ICU-style plurals, the subset messages need:
 *   "{count, plural, one {# review} other {# reviews}}"
 * The branch is chosen by Intl.PluralRules for the locale ("=0" exact
 * matches first, "other" last); "#" is the number in the locale's digits,
 * and a branch may hold other {placeholders}.
 */
function resolvePlurals(locale: Locale, template: string, vars: Record<string, unknown>): string {
  if (!template.includes(", plural,")) return template;
  let out = "";
  let last = 0;
  PLURAL_START.lastIndex = 0;
  for (let m = PLURAL_START.exec(template); m; m = PLURAL_START.exec(template)) {
    // Read "selector {text}" pairs up to the closing brace of the block.
    const options = new Map<string, string>();
    let i = m.index + m[0].length;
    for (;;) {
      while (/\s/.test(template[i] ?? "")) i++;
      if (template[i] === "}" || i >= template.length) break;
      const selector = /^[=\w]+/.exec(template.slice(i))?.[0];
      if (!selector) break;
      i += selector.length;
      while (/\s/.test(template[i] ?? "")) i++;
      if (template[i] !== "{") break;
      let depth = 0;
      const start = i + 1;
      for (; i < template.length; i++) {
        if (template[i] === "{") depth++;
        else if (template[i] === "}" && --depth === 0) break;
      }
      options.set(selector, template.slice(start, i));
      i++;
    }
    const raw = vars[m[1]!];
    const n = typeof raw === "number" ? raw : Number.NaN;
    // A non-number (a "{count}" left for client-side code to fill) takes "other".
    const chosen = options.get(`=${n}`) ?? options.get(Number.isFinite(n) ? pluralCategory(locale, n) : "other") ?? options.get("other") ?? "";
    out += template.slice(last, m.index) + chosen.replace(/#/g, Number.isFinite(n) ? formatNumber(n, locale) : String(raw ?? ""));
    last = i + 1;
    PLURAL_START.lastIndex = last;
  }
  return out + template.slice(last);
}

// Letters that set a direction: Latin and other left-to-right scripts, and
// Arabic-script / Hebrew right-to-left ones.
const LTR_LETTER = /[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]/;
const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

/**
 * For pages: like translate(), but a text value written in the other
 * direction than the page (an English shop name in a Persian sentence, a
 * Persian name in an English one) is wrapped in Unicode isolates (FSI … PDI,
 * the text equivalent of <bdi>), so "پاسخ Tea & Clay." keeps its full stop
 * where it belongs. Emails and feeds use translate(), without isolates.
 */
export function translateForPage(locale: Locale, key: string, vars: Record<string, unknown> = {}): string {
  const foreign = locale === "fa" ? LTR_LETTER : RTL_LETTER;
  let isolated: Record<string, unknown> | null = null;
  for (const [name, value] of Object.entries(vars)) {
    // "{x}" is a placeholder left for client-side code to fill, not text.
    if (typeof value === "string" && foreign.test(value) && !value.startsWith("\u2068") && !/^\{\w+\}$/.test(value)) {
      isolated ??= { ...vars };
      isolated[name] = `\u2068${value}\u2069`;
    }
  }
  return translate(locale, key, isolated ?? vars);
}

/**
 * Looks up a message and fills {placeholders} and {n, plural, …} blocks.
 * Numbers are written in the locale's digits, so Persian pages never show
 * Latin digits by accident. An unknown key renders as itself, which tests
 * catch on the page.
 */
export function translate(locale: Locale, key: string, vars: Record<string, unknown> = {}): string {
  const template = resolvePlurals(locale, catalogs[locale][key] ?? catalogs.en[key] ?? key, vars);
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    if (typeof v === "number") return formatNumber(v, locale);
    return v === undefined || v === null ? "" : String(v);
  });
}
