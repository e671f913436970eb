// Usage: {{#with (page_urls meta.path)}}<link rel="canonical" href="{{canonical}}">{{/with}}
// The page's absolute URL in its own language, and in every language (hreflang).
import type { HelperOptions } from "handlebars";
import { pageUrls as urlsOf } from "../../i18n/alternates.js";
import type { Locale } from "../../i18n/translate.js";

export default function pageUrls(this: unknown, path: unknown, options: HelperOptions) {
  const root = (options.data?.root ?? {}) as { publicBase?: string; locale?: Locale; defaultLocale?: Locale };
  return urlsOf({ publicBase: root.publicBase ?? "", path: String(path ?? "/"), locale: root.locale ?? "en", defaultLocale: root.defaultLocale ?? "en" });
}
