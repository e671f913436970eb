/**
 * Reading claims out of live-chat comments. Pure functions: the lineup and
 * the product's variants are passed in.
 *
 * A comment claims when it has a claim word (sold, claim, buy, mine, dibs,
 * want, take; خرید، میخوام، بخرم، مال من، رزرو; ابغى، اريد) followed by a
 * lineup code, or when it STARTS with a lineup code ("12 M"). Words after
 * the code choose the variant ("blue M", "آبی", "large"); words that match
 * no option of the product are ignored as chatter ("please"). Digits may be
 * ASCII, Persian (۰–۹) or Arabic-Indic (٠–٩).
 *
 * A variant word that matches nothing never silently picks a variant: the
 * comment is "ambiguous" and the reply asks for the missing option.
 */

const PERSIAN_ZERO = 0x06f0;
const ARABIC_ZERO = 0x0660;

/** ۱۲ / ١٢ → 12 */
export function toAsciiDigits(text: string): string {
  return text.replace(/[\u06F0-\u06F9\u0660-\u0669]/g, (d) => {
    const c = d.charCodeAt(0);
    return String(c >= PERSIAN_ZERO ? c - PERSIAN_ZERO : c - ARABIC_ZERO);
  });
}

/** Lower case, one form of Persian/Arabic letters, no joiners or diacritics, punctuation to spaces. */
export function normalizeText(text: string): string {
  return toAsciiDigits(text.normalize("NFKC"))
    .toLowerCase()
    .replace(/[\u064A\u0649]/g, "ی") // Arabic yeh, alef maksura → Persian yeh
    .replace(/\u0643/g, "ک") // Arabic kaf → Persian kaf
    .replace(/[\u0623\u0625\u0622]/g, "ا") // hamza forms of alef
    .replace(/\u0629/g, "ه")
    .replace(/[\u200C\u200D\u0640\u064B-\u065F\u0670]/g, "") // ZWNJ/ZWJ, tatweel, harakat
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

export function tokens(text: string): string[] {
  const n = normalizeText(text);
  return n === "" ? [] : n.split(" ");
}

const CLAIM_WORDS = new Set([
  "sold", "claim", "claims", "claimed", "buy", "buying", "mine", "dibs", "want", "take", "order", "reserve", "me",
  "خرید", "بخرم", "میخرم", "میخوام", "میخواهم", "میخام", "مال", "رزرو", "سفارش", "برام", "بفرستید", "میبرم",
  "ابغى", "ابغی", "اريد", "اشتري", "اشتری",
]);

/** Words that carry no meaning for a claim, said around codes and options. */
const FILLER = new Set([
  "i", "ll", "will", "please", "pls", "plz", "it", "one", "the", "a", "an", "size", "colour", "color", "in", "x", "item", "code", "number", "no", "for", "of", "and", "with",
  "من", "لطفا", "لطفاً", "رنگ", "سایز", "یه", "یک", "عدد", "تا", "کد", "شماره", "و", "با", "از", "اینو", "این",
]);

/** Spoken forms of common options, to one canonical key (the shop's values are canonicalised the same way). */
const ALIASES: Record<string, string> = {
  // sizes
  small: "s", sm: "s", "کوچک": "s", "اسمال": "s",
  medium: "m", med: "m", "متوسط": "m", "مدیوم": "m",
  large: "l", lg: "l", "بزرگ": "l", "لارج": "l",
  xlarge: "xl", "ایکسلارج": "xl", xxlarge: "xxl",
  // colours
  blue: "blue", "ابی": "blue", "ازرق": "blue", // آبی, after normalising its alef
  red: "red", "قرمز": "red", "احمر": "red",
  black: "black", "مشکی": "black", "سیاه": "black", "اسود": "black",
  white: "white", "سفید": "white", "ابیض": "white",
  green: "green", "سبز": "green", "اخضر": "green",
  yellow: "yellow", "زرد": "yellow",
  pink: "pink", "صورتی": "pink",
  grey: "gray", gray: "gray", "طوسی": "gray", "خاکستری": "gray",
  brown: "brown", "قهوهای": "brown", "قهوه": "brown",
  purple: "purple", "بنفش": "purple",
  orange: "orange", "نارنجی": "orange",
  navy: "navy", "سرمهای": "navy",
  beige: "beige", "کرم": "beige", cream: "beige",
  teal: "teal", turquoise: "turquoise", "فیروزهای": "turquoise",
  gold: "gold", "طلایی": "gold", silver: "silver", "نقرهای": "silver",
};

const canon = (word: string) => ALIASES[word] ?? word;

export interface LineupEntry {
  itemId: string;
  claimCode: string;
}

export type ParsedComment =
  | { kind: "claim"; itemId: string; code: string; words: string[] }
  | { kind: "unknown_code"; code: string }
  | { kind: "chat" };

/** Which lineup item a comment claims, and the words after the code. */
export function parseComment(text: string, lineup: LineupEntry[]): ParsedComment {
  const words = tokens(text);
  const byCode = new Map(lineup.map((l) => [normalizeText(l.claimCode), l]));
  const claimWordAt = words.findIndex((w) => CLAIM_WORDS.has(w));
  const codeAt = words.findIndex((w) => byCode.has(w));
  if (codeAt >= 0 && (codeAt === 0 || (claimWordAt >= 0 && claimWordAt < codeAt))) {
    const entry = byCode.get(words[codeAt]!)!;
    const rest = words.filter((w, i) => i !== codeAt && !CLAIM_WORDS.has(w) && !FILLER.has(w));
    return { kind: "claim", itemId: entry.itemId, code: entry.claimCode, words: rest };
  }
  // A claim word with something code-like that is not in the lineup: say so, do not guess.
  if (claimWordAt >= 0) {
    const guess = words.slice(claimWordAt + 1).find((w) => /^[a-z]?\d{1,4}[a-z]?$/.test(w));
    if (guess) return { kind: "unknown_code", code: guess };
  }
  return { kind: "chat" };
}

export interface VariantChoice {
  id: string;
  options: (string | null)[];
}

export type VariantMatch =
  | { kind: "one"; variantId: string }
  /** The option to ask about, and its values among the candidates. */
  | { kind: "ask"; optionIndex: number | null; values: string[] };

/** The one variant the words name, or what to ask to find it. */
export function matchVariant(variants: VariantChoice[], words: string[]): VariantMatch {
  if (variants.length === 0) return { kind: "ask", optionIndex: null, values: [] };
  const keysOf = (v: VariantChoice) => {
    const keys = new Set<string>();
    for (const o of v.options) {
      if (!o) continue;
      const norm = normalizeText(o);
      keys.add(canon(norm.replace(/ /g, "")));
      for (const part of norm.split(" ")) keys.add(canon(part));
    }
    return keys;
  };
  const keyed = variants.map((v) => ({ v, keys: keysOf(v) }));
  const known = new Set(keyed.flatMap((k) => [...k.keys]));
  const said = words.map((w) => canon(normalizeText(w).replace(/ /g, ""))).filter((w) => known.has(w));
  const candidates = keyed.filter((k) => said.every((w) => k.keys.has(w))).map((k) => k.v);
  if (candidates.length === 1) return { kind: "one", variantId: candidates[0]!.id };
  const pool = candidates.length > 0 ? candidates : variants;
  const width = Math.max(...pool.map((v) => v.options.length));
  for (let i = 0; i < width; i++) {
    const values = [...new Set(pool.map((v) => v.options[i]).filter((o): o is string => !!o))];
    if (values.length > 1) return { kind: "ask", optionIndex: i, values };
  }
  return { kind: "ask", optionIndex: null, values: [] };
}

/** Persian or Arabic script in the comment: answer in Persian. */
export function prefersPersian(text: string): boolean {
  return /[\u0600-\u06FF]/.test(text);
}
