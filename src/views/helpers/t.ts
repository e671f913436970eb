// Usage: {{t "product.inStock" count=3}} → the message in the page's locale.
import type { HelperOptions } from "handlebars";
import { translate, type Locale } from "../../i18n/translate.js";

export default function t(key: string, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  return translate(locale, key, options.hash as Record<string, unknown>);
}
