/**
 * English profanity list for the review and question filter.
 *
 * Kept short and unambiguous on purpose: every entry is a word that is
 * offensive in any context (mild words of complaint such as "crap" are left
 * out: they would mostly catch unhappy customers), so the filter holds or censors the same text
 * whoever wrote it and whatever they thought of the product. Words that are
 * also ordinary words ("ass" in "assistant", "dick" in "Dickens") are matched
 * only as whole words; `roots` also match their inflections ("fucking").
 */
export const EN_WORDS: readonly string[] = [
  "ass", "asshole", "arsehole", "bastard", "bitch", "bollocks", "bullshit", "cock", "cunt", "dick", "dickhead",
  "douchebag", "fag", "faggot", "motherfucker", "nigger", "prick", "pussy", "retard", "slut", "twat", "wanker", "whore",
];

/** Matched as the start of a word: these never begin an innocent word. */
export const EN_ROOTS: readonly string[] = ["fuck", "shit", "cunt", "bitch", "asshole", "motherfuck", "bullshit", "wank"];
