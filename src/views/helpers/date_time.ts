// Usage: {{date_time event.at}} → "Nov 20, 2026, 10:04 UTC" / Persian calendar and digits in fa.
// Admin timelines need the time of day; the shop's clock is UTC, so the label says so.
import type { HelperOptions } from "handlebars";
import { intlLocale } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";

const formats = new Map<string, Intl.DateTimeFormat>();

export default function dateTime(value: Date | string, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  let fmt = formats.get(locale);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(intlLocale(locale), { dateStyle: "medium", timeStyle: "short", timeZone: "UTC", hourCycle: "h23" });
    formats.set(locale, fmt);
  }
  return `${fmt.format(new Date(value))} UTC`;
}
