// Standalone program: reads the environment, opens and migrates the SQLite
// database, seeds the demo shop on first start (SEED_DEMO), and serves the
// storefront at /.
import path from "node:path";
import { pino } from "pino";
import { ensureOwner } from "./auth/auth.service.js";
import { startCheckoutSweep } from "./checkout/checkout-sweep.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase, sqliteFilePath } from "./db/client.js";
import { migrateDatabase } from "./db/migrate.js";
import { listen } from "./http/lifecycle.js";
import { prettyDestination } from "./http/pretty-log.js";
import { createPaymentGateway } from "./payments/from-config.js";
import { seedDemoShop } from "./seed/demo.js";
import { getShopProfile } from "./shop/shop.service.js";
import { createStorefront } from "./storefront.js";

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.lines) console.error(line);
      process.exit(1);
    }
    throw err;
  }

  const pretty = (config.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty";
  const destination = pretty ? prettyDestination(process.stdout, { color: Boolean(process.stdout.isTTY) }) : null;
  const logger = destination ? pino({ level: config.LOG_LEVEL }, destination) : pino({ level: config.LOG_LEVEL });
  const dbFile = sqliteFilePath(config.DATABASE_URL);
  const { applied } = migrateDatabase(dbFile);
  if (applied.length) logger.info({ applied }, "database migrated");
  const prisma = await openDatabase(config.DATABASE_URL);
  const uploadsDir = path.join(path.dirname(dbFile), "uploads");
  const payments = createPaymentGateway(config);

  const shop = createStorefront({
    prisma,
    shopName: config.SHOP_NAME,
    currency: config.CURRENCY,
    locale: config.LOCALE,
    publicUrl: config.PUBLIC_URL,
    uploadsDir,
    logger,
    trustProxy: config.TRUST_PROXY,
    payments,
  });
  const deps = shop.bazaarche.deps;

  // Only an explicit SEED_DEMO (or the embedded default database) gets the
  // demo shop: a production database starts empty.
  const seeded = config.SEED_DEMO ? await seedDemoShop(deps) : false;
  const empty = !seeded && (await deps.db.product.count()) === 0;
  // The name set in Shop settings, for what runs before any page view (feeds, emails).
  await getShopProfile(deps);
  const owner = await ensureOwner(deps, config.ADMIN_EMAIL);

  // Holds past their expiry are released (and their orders cancelled) even
  // when no shopper touches those products; the timer never keeps the process up.
  const sweep = startCheckoutSweep(deps, { intervalMs: 60_000 });
  const { ready, shutdown } = listen(shop, config.PORT, {
    onDrain: () => {
      shop.bazaarche.beginShutdown();
      void sweep.stop();
    },
    // A sweep in flight finishes before the database closes.
    onClosed: () => sweep.stop().then(() => prisma.$disconnect()),
  });
  await ready;

  const base = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  const lines = [
    "",
    `  ${config.SHOP_NAME} is running.`,
    `  Storefront: ${base}/`,
    `  Admin:      ${base}/admin`,
    payments.provider === "stripe"
      ? `  Payments:   Stripe (webhook endpoint ${base}/webhooks/stripe)`
      : "  Payments:   local test payment page (set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for Stripe)",
  ];
  if (seeded) lines.push(`  Demo catalog created in ${dbFile} (SEED_DEMO=false starts empty)`);
  if (empty) lines.push("  The shop has no products yet: add them in the admin (SEED_DEMO=true fills an empty shop with the demo).");
  // The credentials come last, in a frame, so they are the last thing on the
  // screen; in a terminal they are shown once more after the first page view's
  // log lines, which would otherwise push them up.
  const box = owner ? credentialsBox(owner, { color: Boolean(process.stdout.isTTY) }) : "";
  process.stdout.write(`${lines.join("\n")}\n${box}\n`);
  if (owner && destination) {
    destination.afterFirstPageView(() => process.stdout.write(`\n  Shown again so it does not scroll away (this is the last time):\n${box}\n`));
  }

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down: finishing in-flight requests");
      void shutdown().then(() => {
        logger.info("shutdown complete");
        process.exit(0);
      });
    });
  }
}

/** The first-start credentials in a frame that stands out from log lines. */
function credentialsBox(owner: { email: string; password: string; apiToken: string }, options: { color: boolean }): string {
  const body = [
    "FIRST START: an admin account and an API token were created.",
    "They are shown once and stored only as hashes. Keep them now.",
    "",
    `  Admin email:    ${owner.email}`,
    `  Admin password: ${owner.password}`,
    `  API token:      ${owner.apiToken}`,
  ];
  const width = Math.max(...body.map((l) => l.length));
  const rule = "═".repeat(width + 2);
  const framed = [`  ╔${rule}╗`, ...body.map((l) => `  ║ ${l.padEnd(width)} ║`), `  ╚${rule}╝`];
  const text = `\n${framed.join("\n")}\n`;
  return options.color ? `\u001b[1;33m${text}\u001b[0m` : text;
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
