// Usage: {{t "product.inStock" count=3}} → the message in the page's locale.
import type { HelperOptions } from "handlebars";
import { translateForPage, type Locale } from "../../i18n/translate.js";

export default function t(key: string, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  // Values written in the other direction are isolated (see translateForPage).
  return translateForPage(locale, key, options.hash as Record<string, unknown>);
}
