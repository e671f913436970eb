// Usage: {{t "order.title" number=(digits order.number)}} → "1001" / "۱۰۰۱" (no thousands separator).
import type { HelperOptions } from "handlebars";
import { formatDigits } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";

export default function digits(value: number, options: HelperOptions) {
  return formatDigits(Number(value), (options.data?.root?.locale as Locale | undefined) ?? "en");
}
