import { z } from "zod";

/**
 * Environment → validated configuration. Every variable is optional and has a
 * default that makes `npm start` work on a fresh clone; a wrong value stops the
 * start with one line naming the variable and what it expects.
 */
const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, "a 3-letter ISO 4217 code in capitals, e.g. USD")
  .refine((c) => Intl.supportedValuesOf("currency").includes(c), "a currency code Intl knows, e.g. USD, EUR, IRR");

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/** The embedded database `npm start` uses when DATABASE_URL is not set. */
export const EMBEDDED_DATABASE_URL = "file:./data/bazaarche.db";

export const EnvSchema = z.object({
  PORT: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: "a whole number from 1 to 65535" }).int("a whole number from 1 to 65535").min(1, "a whole number from 1 to 65535").max(65535, "a whole number from 1 to 65535").default(3000),
  ),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^file:.+/, 'a SQLite URL of the form "file:./data/bazaarche.db"')
      .default(EMBEDDED_DATABASE_URL),
  ),
  // Whether an empty database is filled with the demo shop. Unset: only for the
  // embedded default database, so a production database never gets demo products.
  SEED_DEMO: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(true|false|1|0)$/i, "true or false (unset: true only for the default database file:./data/bazaarche.db)")
      .transform((v) => v === "1" || v.toLowerCase() === "true")
      .optional(),
  ),
  PUBLIC_URL: z.preprocess(
    emptyToUndefined,
    z
      .url({ message: "an absolute http(s) URL such as https://shop.example.com" })
      .refine((u) => /^https?:\/\//.test(u), "an absolute http(s) URL such as https://shop.example.com")
      .transform((u) => u.replace(/\/+$/, ""))
      .optional(),
  ),
  SHOP_NAME: z.preprocess(emptyToUndefined, z.string().trim().min(1).max(80, "at most 80 characters").default("Bazaarche Demo")),
  CURRENCY: z.preprocess(emptyToUndefined, currencyCode.default("USD")),
  LOCALE: z.preprocess(emptyToUndefined, z.enum(["en", "fa"], { message: 'one of "en" or "fa"' }).default("en")),
  STRIPE_SECRET_KEY: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, "a Stripe secret key starting with sk_test_, sk_live_ or rk_").optional(),
  ),
  STRIPE_WEBHOOK_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^whsec_[A-Za-z0-9]+$/, "a Stripe webhook signing secret starting with whsec_").optional(),
  ),
  SMTP_URL: z.preprocess(
    emptyToUndefined,
    z
      .url({ message: "a URL such as smtp://user:pass@mail.example.com:587" })
      .refine((u) => /^smtps?:\/\//.test(u), "a URL starting with smtp:// or smtps://")
      .optional(),
  ),
  ADMIN_EMAIL: z.preprocess(emptyToUndefined, z.email({ message: "an email address such as owner@example.com" }).default("admin@example.com")),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { message: "one of fatal, error, warn, info, debug, trace, silent" }).default("info"),
  ),
  // Unset: readable lines when stdout is a terminal, JSON lines otherwise (log collectors).
  LOG_FORMAT: z.preprocess(emptyToUndefined, z.enum(["pretty", "json"], { message: 'pretty or json (unset: pretty in a terminal, json otherwise)' }).optional()),
  // How many reverse-proxy hops to trust for the client IP and HTTPS ("true" = 1).
  // Never "trust everything": that would let anyone spoof their IP past rate limits.
  TRUST_PROXY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(true|false|\d{1,2})$/, 'false, true (one proxy) or the number of proxy hops, e.g. 2')
      .default("false")
      .transform((v) => (v === "true" ? 1 : v === "false" ? 0 : Number(v))),
  ),
}).superRefine((env, ctx) => {
  if (env.STRIPE_WEBHOOK_SECRET && !env.STRIPE_SECRET_KEY) {
    ctx.addIssue({ code: "custom", path: ["STRIPE_SECRET_KEY"], message: "required when STRIPE_WEBHOOK_SECRET is set" });
  }
  if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
    ctx.addIssue({ code: "custom", path: ["STRIPE_WEBHOOK_SECRET"], message: "required when STRIPE_SECRET_KEY is set (whsec_… from the Stripe dashboard or `stripe listen`)" });
  }
});

type ParsedEnv = z.infer<typeof EnvSchema>;
export type Config = Omit<ParsedEnv, "SEED_DEMO"> & { SEED_DEMO: boolean };

export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = EnvSchema.safeParse(env);
  if (result.success) {
    const data = result.data;
    return { ...data, SEED_DEMO: data.SEED_DEMO ?? data.DATABASE_URL === EMBEDDED_DATABASE_URL };
  }
  // One line per variable: its first problem is the one to fix.
  const seen = new Set<string>();
  const issues = result.error.issues.filter((issue) => {
    const name = String(issue.path[0] ?? "environment");
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
  const lines = issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    const got = env[name];
    const shown = got === undefined ? "" : ` (got "${name.includes("SECRET") || name === "SMTP_URL" ? "…" : got}")`;
    return `Invalid ${name}${shown}: expected ${issue.message}`;
  });
  throw new ConfigError(lines);
}
