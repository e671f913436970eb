// Usage: {{local_digits item.claimCode}} → "12" / "۱۲": the digits of a code in the page's script
// (comment-to-claim reads ASCII, Persian and Arabic-Indic digits alike).
import type { HelperOptions } from "handlebars";
import type { Locale } from "../../i18n/translate.js";

export default function localDigits(value: unknown, options: HelperOptions) {
  const text = String(value ?? "");
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  return locale === "fa" ? text.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d))) : text;
}
