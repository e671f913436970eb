import { LOCALES, type Locale } from "./translate.js";

/**
 * The absolute URL of a page in each language. The shop's default language
 * lives at the bare path; the others add ?lang=. A page names itself in its
 * own language (canonical, og:url, JSON-LD @id), lists every language as an
 * hreflang alternate, and the bare path as x-default.
 */
export function pageUrls(input: { publicBase: string; path: string; locale: Locale; defaultLocale: Locale }) {
  const path = input.path.startsWith("/") ? input.path : `/${input.path}`;
  const href = (l: Locale) => `${input.publicBase}${path}${l === input.defaultLocale ? "" : `${path.includes("?") ? "&" : "?"}lang=${l}`}`;
  return {
    canonical: href(input.locale),
    alternates: LOCALES.map((l) => ({ hreflang: l, href: href(l) })),
    xDefault: href(input.defaultLocale),
  };
}
