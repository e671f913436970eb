import { translateForPage, type Locale } from "./translate.js";
import { errorMessages } from "./messages/errors.js";

/**
 * What a page shows for an error a service threw. Services word their
 * AppErrors in English for the API, the logs and English pages; a Persian
 * page shows the same error by its code (errors.ts), with the names and
 * numbers the error carries in its details. A code without Persian words
 * keeps the service's English message, flagged with lang="en" by the caller.
 */
export function errorText(err: { code: string; message: string; details?: unknown }, locale: Locale): { text: string; translated: boolean } {
  // English pages keep the service's own words: they carry the exact limits
  // and waits ("at most 5 MB", "in 14 minutes") the generic text leaves out.
  if (locale === "en") return { text: err.message, translated: true };
  const key = `error.code.${err.code}`;
  if (!(key in errorMessages.en)) return { text: err.message, translated: false };
  const first = Array.isArray(err.details) ? ((err.details[0] ?? {}) as Record<string, unknown>) : {};
  const available = typeof first.available === "number" ? first.available : null;
  const vars = {
    title: typeof first.title === "string" ? first.title : "",
    available: available ?? 0,
    inCart: typeof first.inCart === "number" ? first.inCart : 0,
  };
  // "Only N left" reads differently from "sold out": pick the sold-out words when nothing is left.
  const soldOut = available === 0 && `${key}.none` in errorMessages.en;
  return { text: translateForPage(locale, soldOut ? `${key}.none` : key, vars), translated: true };
}
