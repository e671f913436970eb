/**
 * Per-platform feed rules. Pure: no database, no HTTP, no clock. Given one
 * item as it would be published, `checkItem()` lists what each platform would
 * reject (errors: the item is left out of that platform's feed only) or
 * flag (warnings: the item is published). Rules return codes and numbers;
 * the words and fixes live in feeds.messages.ts so the admin can show them in
 * both languages.
 *
 * Limits come from shared/notes/platform-facts.md (section 1). Where the
 * sources disagree or say nothing (Meta's title limit, TikTok's lengths) the
 * stricter known value is used and the looser one becomes a warning.
 */

export const PLATFORMS = ["google", "meta", "pinterest", "tiktok"] as const;
export type Platform = (typeof PLATFORMS)[number];

export const CONDITIONS = ["new", "refurbished", "used"] as const;

export interface PlatformLimits {
  id: number;
  title: number;
  /** Longer titles are published but may be cut off on the platform. */
  titleSoft?: number;
  description: number;
  link: number;
  /** Shorter side of the original photo, in pixels. */
  imageMin: number;
}

export const LIMITS: Record<Platform, PlatformLimits> = {
  google: { id: 50, title: 150, description: 5000, link: 2000, imageMin: 100 },
  meta: { id: 100, title: 200, titleSoft: 100, description: 9999, link: 2000, imageMin: 500 },
  pinterest: { id: 127, title: 500, description: 10000, link: 511, imageMin: 75 },
  tiktok: { id: 100, title: 150, description: 5000, link: 2000, imageMin: 500 },
};

export type Severity = "error" | "warning";

/**
 * Every rule, with its severity per platform. A platform missing from a
 * rule's entry does not check it. `scope` says whether the fix is made on the
 * product (title, description, photos) or on one variant (price, barcode).
 */
export const RULES = {
  id_too_long: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  title_too_long: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  title_long: { scope: "variant", meta: "warning" },
  title_all_caps: { scope: "product", google: "warning", meta: "warning", tiktok: "error" },
  title_emoji: { scope: "product", google: "warning", tiktok: "error" },
  title_control_chars: { scope: "product", google: "warning", meta: "warning", pinterest: "warning", tiktok: "error" },
  title_promo: { scope: "product", google: "warning", tiktok: "warning" },
  description_html: { scope: "product", google: "warning", meta: "warning", pinterest: "warning", tiktok: "warning" },
  description_too_long: { scope: "product", google: "warning", meta: "warning", pinterest: "warning", tiktok: "warning" },
  link_too_long: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  image_too_small: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  price_not_positive: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  currency_invalid: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  condition_invalid: { scope: "product", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  gtin_mpn_missing: { scope: "variant", google: "warning" },
  gtin_invalid: { scope: "variant", google: "error", meta: "error", pinterest: "error", tiktok: "error" },
  brand_too_long: { scope: "product", google: "error" },
  mpn_too_long: { scope: "variant", google: "error" },
  category_shallow: { scope: "product", meta: "warning" },
} as const satisfies Record<string, { scope: "product" | "variant" } & Partial<Record<Platform, Severity>>>;

/**
 * Rules about a field the platform needs, reported when the value a feed
 * would write in that field is empty. Which platform needs which field, and
 * when, is not listed here: it is declared on the field itself in each
 * platform's format (formats/*.ts, `required`), the same list the feed is
 * written from, so Feed health and the file cannot disagree.
 */
export const FIELD_RULES = {
  title_missing: { scope: "product", field: "title" },
  description_missing: { scope: "product", field: "description" },
  image_missing: { scope: "product", field: "images" },
  /** Google: a product with identifiers needs a brand, GTIN or MPN. */
  identifiers_missing: { scope: "variant", field: "brand" },
  /** Meta and TikTok have no identifier_exists: a brand (or GTIN/MPN) always. */
  brand_missing: { scope: "variant", field: "brand" },
  color_missing: { scope: "variant", field: "color" },
  size_missing: { scope: "variant", field: "size" },
  gender_missing: { scope: "product", field: "gender" },
  age_group_missing: { scope: "product", field: "ageGroup" },
  /** A field every item has by construction (id, link, price, availability); seeing it means a bug. */
  field_missing: { scope: "variant", field: "id" },
} as const satisfies Record<string, { scope: "product" | "variant"; field: string }>;

export type ContentRuleCode = keyof typeof RULES;
export type FieldRuleCode = keyof typeof FIELD_RULES;
export type RuleCode = ContentRuleCode | FieldRuleCode;
export const RULE_CODES = [...Object.keys(RULES), ...Object.keys(FIELD_RULES)] as RuleCode[];

/** What the rules need beyond the item: the countries the shop's Google feed targets. */
export interface FeedContext {
  targetCountries: readonly string[];
}
export const NO_CONTEXT: FeedContext = { targetCountries: [] };

/**
 * Google's apparel attributes (color, gender, age_group; size for clothing
 * and shoes) are required for Apparel & Accessories in these countries and
 * recommended elsewhere (shared/notes/platform-facts.md, section 8).
 */
export const APPAREL_COUNTRIES = ["US", "GB", "DE", "FR", "JP", "BR"] as const;

export function isApparel(category: string): boolean {
  return /^apparel & accessories(\s*>|$)/i.test(category.trim());
}

export function isClothingOrShoes(category: string): boolean {
  return /^apparel & accessories\s*>\s*(clothing|shoes)(\s*>|$)/i.test(category.trim());
}

/** Severity of a missing apparel attribute: an error where Google requires it, a warning where it recommends it. */
export function apparelSeverity(ctx: FeedContext): Severity {
  return ctx.targetCountries.some((c) => (APPAREL_COUNTRIES as readonly string[]).includes(c)) ? "error" : "warning";
}

/** A field of a platform's feed: its name there, its value, and whether the platform needs it. */
export interface RequiredField<Item> {
  name: string;
  value(item: Item): string | number | null | readonly string[];
  required?: {
    rule: FieldRuleCode;
    /** Severity when the value is empty; null when this item does not need it. Default: always an error. */
    severity?: (item: Item, ctx: FeedContext) => Severity | null;
  };
}

/**
 * The field half of the judgement: every field the platform's format declares
 * as required, checked on the value the feed will write.
 */
export function checkFields<Item>(fields: readonly RequiredField<Item>[], item: Item, ctx: FeedContext): Problem[] {
  const found: Problem[] = [];
  for (const field of fields) {
    if (!field.required) continue;
    const value = field.value(item);
    const empty = value === null || value === "" || (Array.isArray(value) && value.length === 0);
    if (!empty) continue;
    const severity = field.required.severity ? field.required.severity(item, ctx) : "error";
    if (!severity) continue;
    const rule = FIELD_RULES[field.required.rule];
    found.push({ rule: field.required.rule, severity, scope: rule.scope, field: rule.field, params: { field: field.name } });
  }
  return found;
}

export interface Problem {
  rule: RuleCode;
  severity: Severity;
  scope: "product" | "variant";
  /** The product field the owner edits to fix it. */
  field: string;
  /** Numbers and values the message and fix text mention. */
  params: Record<string, string | number>;
}

/** One item as it will be published, before platform-specific cleaning. */
export interface RuleInput {
  id: string;
  /** Raw title (product title plus variant values). */
  title: string;
  /** Raw description, possibly with HTML. */
  description: string;
  /** Final link, UTM parameters included. */
  link: string;
  /** Original photo size (the feed serves an 800 px square made from it). */
  image: { width: number; height: number } | null;
  priceMinor: number;
  currency: string;
  condition: string;
  brand: string;
  gtin: string | null;
  mpn: string | null;
  identifierExists: boolean;
  googleCategory: string;
}

const PROMO = /\b(free (shipping|delivery)|\d+\s?% off|buy now|limited time|best price|clearance|sale)\b/i;
const TAG = /<\/?[a-z][^>]*>|<!--/i;
// C0/C1 control characters; newlines and tabs are allowed in descriptions only.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const CONTROL_IN_TITLE = /[\u0000-\u001F\u007F-\u009F]/;
// Characters that are emoji by default, or text symbols forced into emoji form.
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u;
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;
const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

export function checkItem(platform: Platform, item: RuleInput): Problem[] {
  const limits = LIMITS[platform];
  const found: Problem[] = [];
  const add = (rule: ContentRuleCode, field: string, params: Record<string, string | number> = {}) => {
    const entry = RULES[rule] as { scope: "product" | "variant" } & Partial<Record<Platform, Severity>>;
    const severity = entry[platform];
    if (severity) found.push({ rule, severity, scope: entry.scope, field, params });
  };

  if (item.id.length > limits.id) add("id_too_long", "id", { length: item.id.length, max: limits.id });

  // An empty title, description or photo is a missing field (checkFields), not a content problem.
  const title = item.title.trim();
  if (title !== "") {
    const length = codePoints(cleanTitle(title));
    if (length > limits.title) add("title_too_long", "title", { length, max: limits.title });
    else if (limits.titleSoft && length > limits.titleSoft) add("title_long", "title", { length, max: limits.titleSoft });
    if (isAllCaps(title)) add("title_all_caps", "title");
    // Printable ASCII can hold neither emoji nor control characters.
    if (!PRINTABLE_ASCII.test(title)) {
      if (EMOJI.test(title)) add("title_emoji", "title");
      if (CONTROL_IN_TITLE.test(title)) add("title_control_chars", "title");
    }
    if (PROMO.test(title)) add("title_promo", "title");
  }

  const description = describeText(item.description);
  if (description.clean !== "") {
    if (description.hasHtml) add("description_html", "description");
    if (description.length > limits.description) add("description_too_long", "description", { length: description.length, max: limits.description });
  }

  if (item.link.length > limits.link) add("link_too_long", "slug", { length: item.link.length, max: limits.link });

  if (item.image) {
    const side = Math.min(item.image.width, item.image.height);
    if (side < limits.imageMin) add("image_too_small", "images", { width: item.image.width, height: item.image.height, min: limits.imageMin });
  }

  if (!Number.isInteger(item.priceMinor) || item.priceMinor <= 0) add("price_not_positive", "price");
  if (!CURRENCIES.has(item.currency)) add("currency_invalid", "currency", { currency: item.currency });
  // Availability needs no rule: offerFor() only ever says in_stock or out_of_stock.
  if (!(CONDITIONS as readonly string[]).includes(item.condition)) add("condition_invalid", "condition", { value: item.condition });

  const brand = item.brand.trim();
  const gtin = item.gtin?.trim() || null;
  const mpn = item.mpn?.trim() || null;
  if (gtin && !isValidGtin(gtin)) add("gtin_invalid", "gtin", { gtin });
  if (item.identifierExists && brand && !gtin && !mpn) add("gtin_mpn_missing", "gtin");
  if (brand.length > 70) add("brand_too_long", "brand", { length: brand.length, max: 70 });
  if (mpn && mpn.length > 70) add("mpn_too_long", "mpn", { length: mpn.length, max: 70 });

  const category = item.googleCategory.trim();
  if (category && category.split(">").filter((s) => s.trim()).length < 2) add("category_shallow", "googleCategory", { category });

  return found;
}

export function hasErrors(problems: Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}

/**
 * GTIN-8, -12 (UPC), -13 (EAN) or -14: digits only, and the last digit is the
 * GS1 mod-10 check digit of the others.
 */
export function isValidGtin(value: string): boolean {
  if (!/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(value)) return false;
  return gtinCheckDigit(value.slice(0, -1)) === Number(value.at(-1));
}

/** GS1 check digit: weights 3,1,3,1… from the right of the body. */
export function gtinCheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = Number(body[body.length - 1 - i]);
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * Shouting titles: at least four cased letters, all upper case. Scripts
 * without case (Persian) and short codes ("USB") are never all caps.
 */
export function isAllCaps(text: string): boolean {
  if (/[a-z]/.test(text)) return false;
  const letters = [...text].filter((c) => c.toLowerCase() !== c.toUpperCase());
  return letters.length >= 4 && letters.every((c) => c === c.toUpperCase());
}

/** A title as published: control characters dropped, whitespace collapsed. */
export function cleanTitle(text: string): string {
  if (PRINTABLE_ASCII.test(text) && !/^ | $|  /.test(text)) return text;
  return stripInvalid(text)
    .replace(/[\u0000-\u001F\u007F-\u009F]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", "#39": "'" };

/**
 * A description as published: plain text. Platforms reject or mangle HTML,
 * so tags are removed (block tags become line breaks), common entities are
 * decoded, control characters dropped and blank runs collapsed.
 */
export function cleanDescription(text: string): string {
  let plain = stripInvalid(text);
  if (TAG.test(plain)) {
    plain = plain
      .replace(/<!--[\s\S]*?-->/g, "")
      .replace(/<(br|\/p|\/div|\/li|\/h[1-6]|\/tr)\b[^>]*>/gi, "\n")
      .replace(/<\/?(p|div|li|ul|ol|h[1-6]|tr|td|th|table|section|article)\b[^>]*>/gi, " ")
      // Inline tags (<b>, <a>, <span>) sit inside words and sentences: drop them.
      .replace(/<[^>]*>/g, "")
      .replace(/&(amp|lt|gt|quot|apos|nbsp|#39);/g, (_, name: string) => ENTITIES[name] ?? "");
  }
  return plain
    .replace(new RegExp(CONTROL.source, "g"), "")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export interface TextInfo {
  /** Plain text as published (cleanDescription). */
  clean: string;
  /** Length in characters (code points), as platforms count. */
  length: number;
  hasHtml: boolean;
}

let lastText: { raw: string; info: TextInfo } | null = null;

/**
 * cleanDescription() plus what the rules need to know about the result.
 * Every variant of a product, on every platform, has the same description,
 * and variants arrive one after another: remembering the last answer turns
 * twenty cleanings of the same text into one.
 */
export function describeText(raw: string): TextInfo {
  if (lastText?.raw === raw) return lastText.info;
  const clean = cleanDescription(raw);
  const info = { clean, length: codePoints(clean), hasHtml: TAG.test(raw) };
  lastText = { raw, info };
  return info;
}

/** Characters as platforms count them: code points, not UTF-16 units. */
export function codePoints(text: string): number {
  let surrogates = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) surrogates++;
  }
  return text.length - surrogates;
}

/** Cuts at a word boundary so that the result has at most `max` characters. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join("");
  const space = cut.lastIndexOf(" ");
  return `${space > max / 2 ? cut.slice(0, space) : cut}…`;
}

// Lone surrogates and U+FFFE/U+FFFF are not characters: XML parsers reject them.
function stripInvalid(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uFFFE\uFFFF]/g, "");
}
