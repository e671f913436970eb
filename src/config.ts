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

/**
 * The sender of every email: `shop@example.com` or `Tea & Clay <shop@example.com>`
 * (quotes allowed around the name). Line breaks would let the value inject headers.
 */
export const mailFrom = z
  .string()
  .refine((v) => !/[\r\n]/.test(v), "a sender without line breaks")
  .refine((v) => {
    const m = /^\s*(?:"?([^"<>]*?)"?\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(v);
    const address = m ? (m[2] ?? m[3]) : undefined;
    return !!address && z.email().safeParse(address).success;
  }, 'a sender address such as shop@example.com or "Tea & Clay <shop@example.com>"');

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
      .regex(/^(file:.+|postgres(ql)?:\/\/.+)/, 'a SQLite URL such as "file:./data/bazaarche.db" or a PostgreSQL URL such as "postgres://user:pass@host:5432/bazaarche"')
      .refine((u) => !/^postgres/.test(u) || URL.canParse(u), "a PostgreSQL URL that parses, e.g. postgres://user:pass@host:5432/bazaarche (percent-encode special characters in the password)")
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
      .refine((u) => {
        try {
          return new URL(u).hostname.length > 0;
        } catch {
          return false;
        }
      }, "a URL with the mail server's host, e.g. smtp://user:pass@mail.example.com:587")
      .optional(),
  ),
  MAIL_FROM: z.preprocess(emptyToUndefined, mailFrom.optional()),
  JOBS: z.preprocess(emptyToUndefined, z.enum(["on", "off"], { message: 'on (run background jobs in this process) or off (serve requests only; run `npm run worker` elsewhere)' }).default("on")),
  ADMIN_EMAIL: z.preprocess(emptyToUndefined, z.email({ message: "an email address such as owner@example.com" }).default("admin@example.com")),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { message: "one of fatal, error, warn, info, debug, trace, silent" }).default("info"),
  ),
  // Unset: readable lines when stdout is a terminal, JSON lines otherwise (log collectors).
  LOG_FORMAT: z.preprocess(emptyToUndefined, z.enum(["pretty", "json"], { message: 'pretty or json (unset: pretty in a terminal, json otherwise)' }).optional()),
  ANALYTICS_RETENTION_DAYS: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: "a whole number of days from 1 to 3650" }).int("a whole number of days from 1 to 3650").min(1, "a whole number of days from 1 to 3650").max(3650, "a whole number of days from 1 to 3650").default(90),
  ),
  ANALYTICS_ROLLUP_RETENTION_DAYS: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: "a whole number of days from 1 to 3650" }).int("a whole number of days from 1 to 3650").min(1, "a whole number of days from 1 to 3650").max(3650, "a whole number of days from 1 to 3650").default(730),
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
  // "off" when a reverse proxy or CDN in front of the shop already compresses.
  COMPRESSION: z.preprocess(
    emptyToUndefined,
    z
      .enum(["on", "off"], { message: 'on or off (off when a proxy in front already compresses)' })
      .default("on")
      .transform((v) => v === "on"),
  ),
  // Where rate-limit counters live. Unset: Redis when REDIS_URL is set, the
  // database when it is PostgreSQL (several instances expected), else memory.
  RATE_LIMIT_STORE: z.preprocess(emptyToUndefined, z.enum(["memory", "database", "redis"], { message: "memory, database or redis" }).optional()),
  REDIS_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(rediss?:\/\/.+|unix:\/\/\/.+)$/, "a URL such as redis://:password@127.0.0.1:6379/0, rediss://… or unix:///run/redis/redis.sock")
      .optional(),
  ),
  // Images in an S3-compatible bucket instead of ./data/uploads (several instances share it).
  S3_BUCKET: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "a bucket name: 3 to 63 lower-case letters, digits, dots and dashes")
      .optional(),
  ),
  S3_ENDPOINT: z.preprocess(
    emptyToUndefined,
    z
      .url({ message: "the service's URL, e.g. https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000" })
      .refine((u) => /^https?:\/\//.test(u), "an http(s) URL such as http://127.0.0.1:9000")
      .optional(),
  ),
  S3_REGION: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9-]{2,32}$/, "a region name such as us-east-1 or auto").optional()),
  S3_ACCESS_KEY_ID: z.preprocess(emptyToUndefined, z.string().regex(/^\S{3,128}$/, "an access key id without spaces").optional()),
  S3_SECRET_ACCESS_KEY: z.preprocess(emptyToUndefined, z.string().regex(/^\S{3,256}$/, "a secret access key without spaces").optional()),
  S3_PREFIX: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9._\/-]{1,200}\/$/, 'a key prefix ending in "/", e.g. shop1/').optional()),
  S3_FORCE_PATH_STYLE: z.preprocess(
    emptyToUndefined,
    z.enum(["true", "false"], { message: "true or false" }).optional().transform((v) => (v === undefined ? undefined : v === "true")),
  ),
}).superRefine((env, ctx) => {
  if (env.S3_ACCESS_KEY_ID && !env.S3_SECRET_ACCESS_KEY) {
    ctx.addIssue({ code: "custom", path: ["S3_SECRET_ACCESS_KEY"], message: "required when S3_ACCESS_KEY_ID is set" });
  }
  if (env.S3_SECRET_ACCESS_KEY && !env.S3_ACCESS_KEY_ID) {
    ctx.addIssue({ code: "custom", path: ["S3_ACCESS_KEY_ID"], message: "required when S3_SECRET_ACCESS_KEY is set" });
  }
  if (env.RATE_LIMIT_STORE === "redis" && !env.REDIS_URL) {
    ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: "required when RATE_LIMIT_STORE=redis" });
  }
  if (!env.S3_BUCKET) {
    for (const name of ["S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_PREFIX", "S3_FORCE_PATH_STYLE"] as const) {
      if (env[name] !== undefined) ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: `a bucket name: ${name} is set, so images are meant to go to S3` });
    }
  }
  if (env.SMTP_URL && !env.PUBLIC_URL) {
    ctx.addIssue({ code: "custom", path: ["PUBLIC_URL"], message: "the shop's public address (e.g. https://shop.example.com) when SMTP_URL is set: every link in an email is built from it" });
  }
  if (env.SMTP_URL && !env.MAIL_FROM) {
    ctx.addIssue({ code: "custom", path: ["MAIL_FROM"], message: 'the sender of the shop\'s emails when SMTP_URL is set, e.g. "Tea & Clay <shop@example.com>"' });
  }
  if (env.ANALYTICS_ROLLUP_RETENTION_DAYS < env.ANALYTICS_RETENTION_DAYS) {
    ctx.addIssue({ code: "custom", path: ["ANALYTICS_ROLLUP_RETENTION_DAYS"], message: `at least ANALYTICS_RETENTION_DAYS (${env.ANALYTICS_RETENTION_DAYS}): roll-ups are made from the raw events` });
  }
  if (env.STRIPE_WEBHOOK_SECRET && !env.STRIPE_SECRET_KEY) {
    ctx.addIssue({ code: "custom", path: ["STRIPE_SECRET_KEY"], message: "required when STRIPE_WEBHOOK_SECRET is set" });
  }
  if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
    ctx.addIssue({ code: "custom", path: ["STRIPE_WEBHOOK_SECRET"], message: "required when STRIPE_SECRET_KEY is set (whsec_… from the Stripe dashboard or `stripe listen`)" });
  }
});

type ParsedEnv = z.infer<typeof EnvSchema>;
export type Config = Omit<ParsedEnv, "SEED_DEMO"> & { SEED_DEMO: boolean };

/** The rate-limit store the environment asks for (see RATE_LIMIT_STORE). */
export function rateLimitStoreOf(config: Pick<Config, "RATE_LIMIT_STORE" | "REDIS_URL" | "DATABASE_URL">): "memory" | "database" | { redisUrl: string } {
  const kind = config.RATE_LIMIT_STORE ?? (config.REDIS_URL ? "redis" : /^postgres(ql)?:/.test(config.DATABASE_URL) ? "database" : "memory");
  return kind === "redis" ? { redisUrl: config.REDIS_URL! } : kind;
}

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
    const shown = got === undefined ? "" : ` (got "${name.includes("SECRET") || name === "SMTP_URL" || name === "REDIS_URL" ? "…" : name === "DATABASE_URL" ? withoutPassword(got) : got}")`;
    return `Invalid ${name}${shown}: expected ${issue.message}`;
  });
  throw new ConfigError(lines);
}
