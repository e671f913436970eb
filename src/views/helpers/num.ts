// Usage: {{num review.count}} → "12" in English, "۱۲" in Persian.
import type { HelperOptions } from "handlebars";
import { formatNumber } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";

export default function num(value: number, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  return formatNumber(value, locale);
}
