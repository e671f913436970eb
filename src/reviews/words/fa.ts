/**
 * Persian profanity list for the review and question filter.
 *
 * Whole-word matches only: short entries are also the first letters of
 * ordinary words (کس begins کسی, "someone"), so the text is split on spaces,
 * punctuation and the zero-width non-joiner before matching, and the Arabic
 * forms of ی and ک are folded into the Persian ones first.
 */
export const FA_WORDS: readonly string[] = [
  "کیر", "کیری", "کس", "کسکش", "کسخل", "کسده", "کون", "کونی", "جنده", "مادرجنده", "جاکش", "حرومزاده", "حرامزاده",
  "لاشی", "گوه", "دیوث", "قرمساق", "پفیوز", "کسشر", "کصکش", "کص", "پدرسگ",
];

/** Also matched as the start of a word: plurals typed without the ZWNJ (جندهها). */
export const FA_ROOTS: readonly string[] = ["کسکش", "جنده", "حرومزاده", "حرامزاده", "مادرجنده", "جاکش"];
