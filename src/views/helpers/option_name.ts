// Usage: {{option_name "Colour"}} → "Colour" / "رنگ": a variant option name in the page's language.
// The usual names (size, colour, material, pattern, style; English or Persian)
// are translated; any other name is shown as the shop wrote it.
import type { HelperOptions } from "handlebars";
import { translate, type Locale } from "../../i18n/translate.js";

const KNOWN: [RegExp, string][] = [
  [/^(colou?rs?|رنگ)$/i, "option.colour"],
  [/^(sizes?|سایز|اندازه)$/i, "option.size"],
  [/^(materials?|جنس)$/i, "option.material"],
  [/^(patterns?|طرح)$/i, "option.pattern"],
  [/^(styles?|مدل)$/i, "option.style"],
  [/^(weight|وزن)$/i, "option.weight"],
];

export function localOptionName(name: string, locale: Locale): string {
  const known = KNOWN.find(([pattern]) => pattern.test(name.trim()));
  return known ? translate(locale, known[1]) : name;
}

export default function optionName(name: unknown, options: HelperOptions) {
  return localOptionName(String(name ?? ""), (options.data?.root?.locale as Locale | undefined) ?? "en");
}
