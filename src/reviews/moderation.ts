/**
 * Content filters for reviews and questions.
 *
 * US FTC rule 16 CFR 465 forbids suppressing reviews because of what they
 * think of the product. So the filters here look only at the words (which
 * text, which links, whether it was sent before) and never at the stars:
 * the input type has no field for them, and a test checks that this file
 * never names them. Every flag either censors a word or holds the review
 * for a person to read; nothing is rejected automatically.
 */
import { createHash } from "node:crypto";
import { EN_ROOTS, EN_WORDS } from "./words/en.js";
import { FA_ROOTS, FA_WORDS } from "./words/fa.js";

/** Rules a filter can fire. */
export const FILTER_RULES = ["profanity", "link", "spam", "duplicate"] as const;
export type FilterRule = (typeof FILTER_RULES)[number];

/**
 * Why a person may reject or unpublish a review or question. All of them are
 * about the content or its author's standing, none about its opinion; the
 * FTC allows withholding unrelated, unlawful, profane, fake or insider content
 * when the criteria are applied uniformly.
 */
export const REJECT_REASONS = ["profanity", "spam", "link", "duplicate", "off_topic", "personal_data", "unlawful", "conflict_of_interest", "fake"] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface ModerationSettings {
  /** Publish at once when no filter holds the text; otherwise everything waits for a person. */
  autoPublish: boolean;
  /** censor: replace the word and go on; hold: keep the whole text for a person. */
  profanity: "censor" | "hold";
  /** hold: texts with links wait for a person; allow: links are fine. */
  links: "hold" | "allow";
}

/** What moderation may look at: the texts a person wrote, and whether the same text was sent before. */
export interface ModerationContent {
  fields: Record<string, string>;
  isDuplicate: boolean;
}

export interface ModerationFlag {
  rule: FilterRule;
  field: string;
  action: "hold" | "censor";
  /** A short machine-readable note: the signal that fired ("spam_phrase", "url"), never the text. */
  signal: string;
}

export interface ModerationDecision {
  status: "published" | "pending";
  /** The fields as they will be stored (censored when the profanity setting says so). */
  fields: Record<string, string>;
  flags: ModerationFlag[];
}

/** Runs every filter over every field, the same way for every text. */
export function moderateContent(content: ModerationContent, settings: ModerationSettings): ModerationDecision {
  const flags: ModerationFlag[] = [];
  const fields: Record<string, string> = {};
  for (const [field, text] of Object.entries(content.fields)) {
    let out = text;
    if (findProfanity(text).length > 0) {
      if (settings.profanity === "censor") {
        out = censorProfanity(text);
        flags.push({ rule: "profanity", field, action: "censor", signal: "word_list" });
      } else {
        flags.push({ rule: "profanity", field, action: "hold", signal: "word_list" });
      }
    }
    if (settings.links === "hold") {
      for (const signal of linkSignals(text)) flags.push({ rule: "link", field, action: "hold", signal });
    }
    for (const signal of spamSignals(text)) flags.push({ rule: "spam", field, action: "hold", signal });
    fields[field] = out;
  }
  if (content.isDuplicate) flags.push({ rule: "duplicate", field: "body", action: "hold", signal: "same_text" });
  const held = flags.some((f) => f.action === "hold");
  return { status: settings.autoPublish && !held ? "published" : "pending", fields, flags };
}

/** "profanity,link" for the queue; each rule once, in a fixed order. */
export function flagSummary(flags: ModerationFlag[]): string {
  return FILTER_RULES.filter((r) => flags.some((f) => f.rule === r)).join(",");
}

// ───────────── profanity ─────────────

const WORDS = new Set([...EN_WORDS, ...FA_WORDS].map(foldLetters));
const ROOTS = [...EN_ROOTS, ...FA_ROOTS].map(foldLetters);
// Letters, marks, digits, and the symbols people use to dodge filters (sh!t, f*ck, $hit, a55).
const TOKEN = /[\p{L}\p{M}\p{N}@$*!]+/gu;
const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s", "!": "i" };

/** Arabic ي/ك/ى and tatweel folded into Persian, lower case, compatibility forms unified. */
export function foldLetters(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[يى]/g, "ی")
    .replace(/ك/g, "ک")
    .replace(/\u0640/g, "");
}

function isProfane(token: string): boolean {
  const folded = foldLetters(token);
  // Digits and symbols stand for letters only inside a word that has letters:
  // "455" is a price, "a55" is not.
  const hasLetter = /\p{L}/u.test(folded.replace(/[*]/g, ""));
  if (!hasLetter) return false;
  const plain = folded.replace(/[0-9@$!]/g, (c) => LEET[c] ?? c);
  if (plain.includes("*")) {
    // f*ck, sh**t: a star stands for one letter; at least two real letters.
    if (plain.replace(/\*/g, "").length < 2) return false;
    const pattern = new RegExp(`^${plain.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".")}$`, "u");
    return [...WORDS].some((w) => pattern.test(w)) || ROOTS.some((r) => pattern.test(r));
  }
  return WORDS.has(plain) || ROOTS.some((r) => plain.startsWith(r));
}

/** Where the listed words are in a text: [start, end) offsets of whole tokens. */
export function findProfanity(text: string): { start: number; end: number }[] {
  const hits: { start: number; end: number }[] = [];
  for (const m of text.matchAll(TOKEN)) {
    // Trailing "!" is punctuation, not a letter ("great!").
    const token = m[0].replace(/!+$/, "");
    if (token && isProfane(token)) hits.push({ start: m.index, end: m.index + token.length });
  }
  return hits;
}

/** Keeps the first letter of each listed word and stars the rest: "f***", "ک**". */
export function censorProfanity(text: string): string {
  let out = "";
  let at = 0;
  for (const hit of findProfanity(text)) {
    const word = [...text.slice(hit.start, hit.end)];
    out += text.slice(at, hit.start) + word[0] + "*".repeat(word.length - 1);
    at = hit.end;
  }
  return out + text.slice(at);
}

// ───────────── links ─────────────

const TLDS = "com|net|org|io|ir|info|biz|co|me|ru|xyz|shop|store|online|site|top|link|click|app|ly|gg|tk|cn|de|uk|us|ca|au|fr|nl|in|tv|cc|ws|su|pw|live|vip|bet|win|club|one|fun";
const URL_SCHEME = /\b(?:https?|ftp):\/\/\S+/i;
const WWW = /\bwww\.\S+/i;
const BARE_DOMAIN = new RegExp(`\\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9-]+)*\\.(?:${TLDS})\\b(?:/\\S*)?`, "i");
const MARKUP_LINK = /<a\s[^>]*href|\[[^\]]*\]\([^)]*\)/i;

/** Which kinds of link a text carries: "url", "www", "domain", "markup". */
export function linkSignals(text: string): string[] {
  const signals: string[] = [];
  if (URL_SCHEME.test(text)) signals.push("url");
  if (WWW.test(text)) signals.push("www");
  if (BARE_DOMAIN.test(text.replace(URL_SCHEME, " ").replace(WWW, " "))) signals.push("domain");
  if (MARKUP_LINK.test(text)) signals.push("markup");
  return signals;
}

// ───────────── spam ─────────────

const SPAM_PHRASES = [
  "buy followers", "free followers", "cheap followers", "casino", "bitcoin", "crypto signals", "forex", "viagra", "cialis",
  "make money fast", "earn money from home", "work from home", "click here", "dm me", "whatsapp me", "seo service", "loan offer",
  "خرید فالوور", "فالوور رایگان", "کسب درآمد", "درآمد دلاری", "شرط بندی", "شرط‌بندی", "کازینو", "بیت کوین", "سیگنال ارز",
].map(foldLetters);
const PERSIAN_DIGITS = /[۰-۹٠-٩]/g;
const latinDigit = (d: string) => String(d.charCodeAt(0) - (d >= "۰" ? 0x6f0 : 0x660));
const EMAIL = /[^\s@<>()]+@[^\s@<>()]+\.[a-z]{2,}/i;
// Nine or more digits with the usual separators: a phone number, which is
// personal data (and how spam asks to be contacted).
const PHONE = /(?:\+?\d[\s().-]?){9,}/;

/** Spam signals of one text: repeated letters or words, contact details, known spam phrases. */
export function spamSignals(text: string): string[] {
  const signals: string[] = [];
  const folded = foldLetters(text).replace(PERSIAN_DIGITS, latinDigit);
  if (/(\S)\1{7,}/u.test(folded)) signals.push("repeated_characters");
  if (/(?:^|\s)(\p{L}+)(?:\s+\1(?=\s|$)){4,}/u.test(folded)) signals.push("repeated_words");
  if (EMAIL.test(folded)) signals.push("email_address");
  if (PHONE.test(folded)) signals.push("phone_number");
  const spaced = folded.replace(/\s+/g, " ");
  if (SPAM_PHRASES.some((p) => spaced.includes(p))) signals.push("spam_phrase");
  return signals;
}

// ───────────── duplicates ─────────────

/** Texts shorter than this ("Great!", "عالی بود") are common and never count as copies. */
export const DUPLICATE_MIN_CHARS = 20;

/** Letters and digits only, folded: the same words in another case or spacing are the same text. */
export function normalizeForHash(text: string): string {
  return foldLetters(text).replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** Hash of a review's words; empty when the text is too short to be a meaningful copy. */
export function contentHashOf(parts: { title: string; body: string }): string {
  const normalized = normalizeForHash(`${parts.title} ${parts.body}`);
  if (normalized.replace(/\s/g, "").length < DUPLICATE_MIN_CHARS) return "";
  return createHash("sha256").update(normalized).digest("hex");
}
