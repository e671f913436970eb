// Standalone program: reads the environment, opens and migrates the SQLite
// database, seeds the demo shop on first start, and serves the storefront at /.
import { ensureOwner } from "./auth/auth.service.js";
import { bootShop, configOrExit } from "./boot.js";
import { listen } from "./http/lifecycle.js";
import { startJobs } from "./jobs/registry.js";
import { seedDemoShop } from "./seed/demo.js";

async function main() {
  const config = configOrExit();
  const { shop, deps, logger, dbFile, uploadsDir, files, payments, mail, close } = await bootShop(config);

  const seeded = await seedDemoShop(deps);
  const owner = await ensureOwner(deps, config.ADMIN_EMAIL);

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
  if (seeded) lines.push(`  Demo catalog created in ${dbFile}`);
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
