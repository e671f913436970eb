// Usage: {{clock 905}} → "15:05" / "۱۵:۰۵": a countdown's minutes and seconds (hours when needed).
import type { HelperOptions } from "handlebars";
import { formatDigits } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";

export default function clock(seconds: number, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const d = (n: number, pad = true) => (pad ? formatDigits(0, locale) : "").repeat(pad && n < 10 ? 1 : 0) + formatDigits(n, locale);
  return h > 0 ? `${formatDigits(h, locale)}:${d(m)}:${d(s)}` : `${formatDigits(m, locale)}:${d(s)}`;
}
