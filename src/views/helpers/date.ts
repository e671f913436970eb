// Usage: {{date review.createdAt}} → "Nov 20, 2026" / "۲۹ آبان ۱۴۰۵" (Persian calendar in fa).
import type { HelperOptions } from "handlebars";
import { intlLocale } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";

const formats = new Map<string, Intl.DateTimeFormat>();

export default function date(value: Date | string, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  let fmt = formats.get(locale);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(intlLocale(locale), { dateStyle: "medium", timeZone: "UTC" });
    formats.set(locale, fmt);
  }
  return fmt.format(new Date(value));
}
