// Usage: {{money variant.priceMinor variant.currency}} → "$12.00" / "۱۲٫۰۰ $"
import type { HelperOptions } from "handlebars";
import { formatMoney } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";

export default function money(amountMinor: number, currency: string, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  return formatMoney(amountMinor, currency, locale);
}
