// `npm run worker`: only the background jobs (hold sweep, email sender, owner
// notifications), no HTTP. Run it beside web processes started with JOBS=off,
// or beside `npm start` too: each run takes its job's lease first, so nothing
// happens twice however many processes run the jobs.
import path from "node:path";
import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase, sqliteFilePath } from "./db/client.js";
import { migrateDatabase } from "./db/migrate.js";
import { startJobs } from "./jobs/registry.js";
import { createSmtpSender } from "./mail/sender.js";
import { createPaymentGateway } from "./payments/from-config.js";
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
  const dbFile = sqliteFilePath(config.DATABASE_URL);
  migrateDatabase(dbFile);
  const prisma = await openDatabase(config.DATABASE_URL);
  const mail = config.SMTP_URL ? { sender: createSmtpSender(config.SMTP_URL), from: config.MAIL_FROM! } : undefined;
  // The same services the web process has; the app itself is never listened on.
  const deps = createStorefront({
    prisma,
    shopName: config.SHOP_NAME,
    currency: config.CURRENCY,
    locale: config.LOCALE,
    publicUrl: config.PUBLIC_URL,
    uploadsDir: path.join(path.dirname(dbFile), "uploads"),
    logger,
    payments: createPaymentGateway(config),
    mail,
  }).bazaarche.deps;

  // Its timer keeps this process alive (in the web process the server does).
  const jobs = startJobs(deps, { keepAlive: true });
  console.log(
    [
      `  ${config.SHOP_NAME} worker is running (${jobs.instanceId}).`,
      mail ? `  Email: sent through ${mail.sender.description} from ${config.MAIL_FROM}` : "  Email: NOT sent (no SMTP_URL): emails stay in the outbox",
      "",
    ].join("\n"),
  );
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "worker stopping: waiting for runs in flight");
      void jobs
        .stop()
        .then(() => mail?.sender.close())
        .then(() => prisma.$disconnect())
        .then(() => process.exit(0));
    });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
