import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

function errorsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  return [];
}

describe("configuration from the environment", () => {
  it("has defaults that run the demo shop", () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      DATABASE_URL: "file:./data/bazaarche.db",
      SHOP_NAME: "Bazaarche Demo",
      CURRENCY: "USD",
      LOCALE: "en",
      ADMIN_EMAIL: "admin@example.com",
      TRUST_PROXY: 0,
    });
    expect(loadConfig({}).STRIPE_SECRET_KEY).toBeUndefined();
  });

  it("fills an empty database with the demo shop only for the embedded default database, unless SEED_DEMO says otherwise", () => {
    expect(loadConfig({}).SEED_DEMO).toBe(true);
    expect(loadConfig({ DATABASE_URL: "file:./data/bazaarche.db" }).SEED_DEMO).toBe(true);
    expect(loadConfig({ DATABASE_URL: "file:/srv/shop/production.db" }).SEED_DEMO).toBe(false);
    expect(loadConfig({ DATABASE_URL: "file:/srv/shop/production.db", SEED_DEMO: "true" }).SEED_DEMO).toBe(true);
    expect(loadConfig({ DATABASE_URL: "file:/srv/shop/production.db", SEED_DEMO: "1" }).SEED_DEMO).toBe(true);
    expect(loadConfig({ SEED_DEMO: "false" }).SEED_DEMO).toBe(false);
    expect(loadConfig({ SEED_DEMO: "0" }).SEED_DEMO).toBe(false);
    expect(loadConfig({ SEED_DEMO: "" }).SEED_DEMO).toBe(true);
  });

  it("parses good values and treats empty strings as unset", () => {
    const c = loadConfig({ PORT: "8080", CURRENCY: "EUR", LOCALE: "fa", PUBLIC_URL: "https://shop.example.com/", STRIPE_SECRET_KEY: "", TRUST_PROXY: "true" });
    expect(c).toMatchObject({ PORT: 8080, CURRENCY: "EUR", LOCALE: "fa", PUBLIC_URL: "https://shop.example.com", TRUST_PROXY: 1 });
  });

  it.each([
    [{ PORT: "abc" }, 'Invalid PORT (got "abc"): expected a whole number from 1 to 65535'],
    [{ PORT: "70000" }, 'Invalid PORT (got "70000"): expected a whole number from 1 to 65535'],
    [{ DATABASE_URL: "mysql://x" }, 'Invalid DATABASE_URL (got "mysql://x"): expected a SQLite URL such as "file:./data/bazaarche.db" or a PostgreSQL URL such as "postgres://user:pass@host:5432/bazaarche"'],
    [{ DATABASE_URL: "postgres://app:secret@db:port/x" }, 'Invalid DATABASE_URL (got "postgres://app:***@db:port/x"): expected a PostgreSQL URL that parses, e.g. postgres://user:pass@host:5432/bazaarche (percent-encode special characters in the password)'],
    [{ DATABASE_POOL_SIZE: "0" }, 'Invalid DATABASE_POOL_SIZE (got "0"): expected a whole number from 1 to 200'],
    [{ PUBLIC_URL: "shop.example.com" }, 'Invalid PUBLIC_URL (got "shop.example.com"): expected an absolute http(s) URL such as https://shop.example.com'],
    [{ PUBLIC_URL: "ftp://shop.example.com" }, 'Invalid PUBLIC_URL (got "ftp://shop.example.com"): expected an absolute http(s) URL such as https://shop.example.com'],
    [{ CURRENCY: "usd" }, 'Invalid CURRENCY (got "usd"): expected a 3-letter ISO 4217 code in capitals, e.g. USD'],
    [{ CURRENCY: "ZZZ" }, 'Invalid CURRENCY (got "ZZZ"): expected a currency code Intl knows, e.g. USD, EUR, IRR'],
    [{ LOCALE: "de" }, 'Invalid LOCALE (got "de"): expected one of "en" or "fa"'],
    [{ ADMIN_EMAIL: "owner" }, 'Invalid ADMIN_EMAIL (got "owner"): expected an email address such as owner@example.com'],
    [{ SMTP_URL: "http://mail", PUBLIC_URL: "https://shop.example.com", MAIL_FROM: "shop@example.com" }, 'Invalid SMTP_URL (got "…"): expected a URL starting with smtp:// or smtps://'],
    [{ SMTP_URL: "smtp://user:secret@mail.example.com:587", MAIL_FROM: "shop@example.com" }, "Invalid PUBLIC_URL: expected the shop's public address (e.g. https://shop.example.com) when SMTP_URL is set: every link in an email is built from it"],
    [{ SMTP_URL: "smtp://mail.example.com", PUBLIC_URL: "https://shop.example.com" }, 'Invalid MAIL_FROM: expected the sender of the shop\'s emails when SMTP_URL is set, e.g. "Tea & Clay <shop@example.com>"'],
    [{ MAIL_FROM: "Tea & Clay <not an address>" }, 'Invalid MAIL_FROM (got "Tea & Clay <not an address>"): expected a sender address such as shop@example.com or "Tea & Clay <shop@example.com>"'],
    [{ MAIL_FROM: "shop@example.com\r\nBcc: all@example.com" }, 'Invalid MAIL_FROM (got "shop@example.com\r\nBcc: all@example.com"): expected a sender without line breaks'],
    [{ JOBS: "maybe" }, 'Invalid JOBS (got "maybe"): expected on (run background jobs in this process) or off (serve requests only; run `npm run worker` elsewhere)'],
    [{ STRIPE_SECRET_KEY: "pk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_abc" }, 'Invalid STRIPE_SECRET_KEY (got "…"): expected a Stripe secret key starting with sk_test_, sk_live_ or rk_'],
    [{ STRIPE_SECRET_KEY: "sk_test_abc" }, "Invalid STRIPE_WEBHOOK_SECRET: expected required when STRIPE_SECRET_KEY is set (whsec_… from the Stripe dashboard or `stripe listen`)"],
    [{ SEED_DEMO: "yes" }, 'Invalid SEED_DEMO (got "yes"): expected true or false (unset: true only for the default database file:./data/bazaarche.db)'],
    [{ LOG_FORMAT: "text" }, 'Invalid LOG_FORMAT (got "text"): expected pretty or json (unset: pretty in a terminal, json otherwise)'],
    [{ TRUST_PROXY: "yes" }, 'Invalid TRUST_PROXY (got "yes"): expected false, true (one proxy) or the number of proxy hops, e.g. 2'],
  ])("names the variable and what it expects: %j", (env, line) => {
    expect(errorsFor(env)).toEqual([line]);
  });

  it("never echoes a secret's value", () => {
    const lines = errorsFor({ STRIPE_SECRET_KEY: "pk_live_verysecret", STRIPE_WEBHOOK_SECRET: "whsec_x" });
    expect(lines.join()).not.toContain("verysecret");
  });

  it("stops the server start with one clear line and exit code 1", () => {
    const root = path.resolve(import.meta.dirname, "..");
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: root,
      env: { ...process.env, PORT: "not-a-port", DATABASE_URL: "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('Invalid PORT (got "not-a-port"): expected a whole number from 1 to 65535');
  });

  it.each([
    ["src/server.ts", { SMTP_URL: "smtp//mail.example.com", PUBLIC_URL: "https://shop.example.com", MAIL_FROM: "shop@example.com" }, 'Invalid SMTP_URL (got "…"): expected a URL such as smtp://user:pass@mail.example.com:587'],
    ["src/server.ts", { SMTP_URL: "smtp://mail.example.com:587", PUBLIC_URL: "https://shop.example.com", MAIL_FROM: "The Shop" }, 'Invalid MAIL_FROM (got "The Shop"): expected a sender address such as shop@example.com or "Tea & Clay <shop@example.com>"'],
    ["src/worker.ts", { SMTP_URL: "smtp://mail.example.com:587", MAIL_FROM: "shop@example.com" }, "Invalid PUBLIC_URL: expected the shop's public address (e.g. https://shop.example.com) when SMTP_URL is set: every link in an email is built from it"],
  ])("a bad mail setting stops %s with one line naming the variable", (entry, env, line) => {
    const root = path.resolve(import.meta.dirname, "..");
    const { PUBLIC_URL: _unset, MAIL_FROM: _unset2, SMTP_URL: _unset3, ...inherited } = process.env;
    const run = spawnSync(process.execPath, ["--import", "tsx", entry], { cwd: root, env: { ...inherited, DATABASE_URL: "", ...env }, encoding: "utf8", timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(line);
  });
});
