// Usage: {{country_name address.country}} → "Italy" / "ایتالیا": an ISO 3166 code named in the page's language.
import type { HelperOptions } from "handlebars";
import { countryName as nameOf } from "../../i18n/countries.js";
import type { Locale } from "../../i18n/translate.js";

export default function countryName(code: unknown, options: HelperOptions) {
  const locale = (options.data?.root?.locale as Locale | undefined) ?? "en";
  return typeof code === "string" && /^[A-Za-z]{2}$/.test(code) ? nameOf(code.toUpperCase(), locale) : String(code ?? "");
}
