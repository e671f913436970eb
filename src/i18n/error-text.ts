import { translateForPage, type Locale } from "./translate.js";
import { errorMessages } from "./messages/errors.js";

/**
 * What a page shows for an error a service threw. Services word their
 * AppErrors in English for the API and the logs; pages show the same error
 * by its code in the page's language, with the numbers and names the error
 * carries in its details. A code without words here keeps the service's
 * English message (the API's words), flagged with lang="en" by the caller.
 */
export function errorText(err: { code: string; message: string; details?: unknown }, locale: Locale): { text: string; translated: boolean } {
  const key = `error.code.${err.code}`;
  if (!(key in errorMessages.en)) return { text: err.message, translated: locale === "en" };
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
