// Usage: {{t "cart.shippingNote" options=(shipping_list shippingOptions)}} → "Standard shipping $5.00, Express shipping $15.00"
import type { HelperOptions } from "handlebars";
import { formatMoney } from "../../i18n/format.js";
import type { Locale } from "../../i18n/translate.js";
import { shippingLabel } from "../../payments/gateway.js";

export default function shippingList(options: { label: string; labelFa?: string; amountMinor: number }[], hb: HelperOptions) {
  const locale = (hb.data?.root?.locale as Locale | undefined) ?? "en";
  const currency = (hb.data?.root?.cart?.currency as string | undefined) ?? "USD";
  const sep = locale === "fa" ? "، " : ", ";
  return (options ?? []).map((o) => `${shippingLabel(o, locale)} ${formatMoney(o.amountMinor, currency, locale)}`).join(sep);
}
