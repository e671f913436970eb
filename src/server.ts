// Standalone program: reads the environment, migrates and opens the database
// (SQLite file or PostgreSQL), seeds the demo shop on first start (SEED_DEMO),
// and serves the storefront at /.
import { ensureOwner } from "./auth/auth.service.js";
import { bootShop, configOrExit } from "./boot.js";
import { withStartupLock } from "./db/migrate.js";
import { listen } from "./http/lifecycle.js";
import { startJobs } from "./jobs/registry.js";
import { seedDemoShop } from "./seed/demo.js";
import { getShopProfile } from "./shop/shop.service.js";

async function main() {
  const config = configOrExit();
  const { shop, deps, dbFile, uploadsDir, files, payments, mail, close, logDestination: destination } = await bootShop(config);

  // Only an explicit SEED_DEMO (or the embedded default database) gets the
  // demo shop: a production database starts empty. Several instances starting
  // on an empty database: one seeds, the others wait and find it done.
  const { seeded, owner } = await withStartupLock(config.DATABASE_URL, async () => ({
    seeded: config.SEED_DEMO ? await seedDemoShop(deps) : false,
    owner: await ensureOwner(deps, config.ADMIN_EMAIL),
  }));
  const empty = !seeded && (await deps.db.product.count()) === 0;
  // The name set in Shop settings, for what runs before any page view (feeds, emails).
  await getShopProfile(deps);

  // Background work (hold sweep, email, owner notifications) runs here unless
  // JOBS=off, where `npm run worker` runs it; either way each run takes a lease.
  const jobs = config.JOBS === "on" ? startJobs(deps) : null;
  const { ready, shutdown } = listen(shop, config.PORT, {
    onDrain: () => {
      shop.bazaarche.beginShutdown();
      void jobs?.stop();
    },
    // Runs in flight (an email batch, a sweep) finish before the database closes.
    onClosed: async () => {
      await jobs?.stop();
      await close();
    },
  });
  await ready;
  // Before the banner: whoever reads "is running" may stop the server at once, and gets a graceful shutdown.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      deps.logger.info({ signal }, "shutting down: finishing in-flight requests");
      void shutdown().then(() => {
        deps.logger.info("shutdown complete");
        process.exit(0);
      });
    });
  }

  const base = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  const lines = [
    "",
    `  ${config.SHOP_NAME} is running.`,
    `  Storefront: ${base}/`,
    `  Admin:      ${base}/admin`,
    `  Images:     ${files.kind === "s3" ? `S3 bucket ${config.S3_BUCKET}${config.S3_ENDPOINT ? ` at ${config.S3_ENDPOINT}` : ""}` : uploadsDir}`,
    payments.provider === "stripe"
      ? `  Payments:   Stripe (webhook endpoint ${base}/webhooks/stripe)`
      : "  Payments:   local test payment page (set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for Stripe)",
    mail
      ? `  Email:      sent through ${mail.sender.description} from ${config.MAIL_FROM}`
      : `  Email:      NOT sent (no SMTP_URL): every email waits in ${base}/admin/outbox`,
    jobs ? "  Jobs:       running in this process" : "  Jobs:       off in this process (JOBS=off): run `npm run worker`",
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
