// Standalone program: reads the environment, migrates and opens the database
// (SQLite file or PostgreSQL), seeds the demo shop on first start, and serves
// the storefront at /.
import path from "node:path";
import { pino } from "pino";
import { ensureOwner } from "./auth/auth.service.js";
import { startCheckoutSweep } from "./checkout/checkout-sweep.js";
import { ConfigError, loadConfig } from "./config.js";
import { DatabaseStartError, engineOfUrl, openDatabase, redactUrl, sqliteFilePath } from "./db/client.js";
import { migrate, withStartupLock } from "./db/migrate.js";
import { listen } from "./http/lifecycle.js";
import { createPaymentGateway } from "./payments/from-config.js";
import { seedDemoShop } from "./seed/demo.js";
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

  const logger = pino({ level: config.LOG_LEVEL });
  const engine = engineOfUrl(config.DATABASE_URL);
  const where = engine === "sqlite" ? sqliteFilePath(config.DATABASE_URL) : redactUrl(config.DATABASE_URL);
  let prisma;
  try {
    const { applied } = await migrate(config.DATABASE_URL);
    if (applied.length) logger.info({ applied }, "database migrated");
    prisma = await openDatabase(config.DATABASE_URL, {
      poolSize: config.DATABASE_POOL_SIZE,
      onConnectionError: (err) => logger.warn({ err: err.message }, "database connection lost; the pool reconnects"),
    });
  } catch (err) {
    // Unreachable or misconfigured database: one line that says what to fix, and a non-zero exit.
    if (err instanceof DatabaseStartError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const uploadsDir = engine === "sqlite" ? path.join(path.dirname(where), "uploads") : path.resolve("data/uploads");
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

  // Several instances starting on an empty database: one seeds, the others wait and find it done.
  const { seeded, owner } = await withStartupLock(config.DATABASE_URL, async () => ({ seeded: await seedDemoShop(deps), owner: await ensureOwner(deps, config.ADMIN_EMAIL) }));

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
  if (seeded) lines.push(`  Demo catalog created in ${where}`);
  if (owner) {
    lines.push(
      "",
      "  First start: an admin account and an API token were created.",
      "  They are shown once and stored only as hashes. Keep them now.",
      `    Admin email:    ${owner.email}`,
      `    Admin password: ${owner.password}`,
      `    API token:      ${owner.apiToken}`,
    );
  }
  console.log(`${lines.join("\n")}\n`);

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

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
