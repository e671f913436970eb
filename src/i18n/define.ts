/**
 * A feature's messages: English, and Persian with exactly the same keys (the
 * type makes a missing Persian string a compile error; a test checks that the
 * {placeholders} match too).
 */
export interface MessageSet {
  en: Record<string, string>;
  fa: Record<string, string>;
}

export function defineMessages<const E extends Record<string, string>>(en: E, fa: { [K in keyof E]: string }): MessageSet {
  return { en, fa };
}
