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

export const EnvSchema = z.object({
  PORT: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: "a whole number from 1 to 65535" }).int("a whole number from 1 to 65535").min(1, "a whole number from 1 to 65535").max(65535, "a whole number from 1 to 65535").default(3000),
  ),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(file:.+|postgres(ql)?:\/\/.+)/, 'a SQLite URL such as "file:./data/bazaarche.db" or a PostgreSQL URL such as "postgres://user:pass@host:5432/bazaarche"')
      .refine((u) => !/^postgres/.test(u) || URL.canParse(u), "a PostgreSQL URL that parses, e.g. postgres://user:pass@host:5432/bazaarche (percent-encode special characters in the password)")
      .default("file:./data/bazaarche.db"),
  ),
  // PostgreSQL connections per app process; the sum over all processes must stay under the server's max_connections (or pgbouncer's pool).
  DATABASE_POOL_SIZE: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: "a whole number from 1 to 200" }).int("a whole number from 1 to 200").min(1, "a whole number from 1 to 200").max(200, "a whole number from 1 to 200").default(10),
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

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

/** A URL with its password (if any) replaced by ***, for messages. */
function withoutPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/]*@/i, "$1:***@");
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = EnvSchema.safeParse(env);
  if (result.success) return result.data;
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
    const shown = got === undefined ? "" : ` (got "${name.includes("SECRET") || name === "SMTP_URL" ? "…" : name === "DATABASE_URL" ? withoutPassword(got) : got}")`;
    return `Invalid ${name}${shown}: expected ${issue.message}`;
  });
  throw new ConfigError(lines);
}
