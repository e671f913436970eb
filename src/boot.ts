// What the standalone server and the worker share: the environment read once,
// the database opened and migrated, and the storefront built from the same
// configuration, so a worker process sees the same storage, mail and limits.
import path from "node:path";
import { pino } from "pino";
import { flushEvents } from "./analytics/events.js";
import { ConfigError, loadConfig, rateLimitStoreOf, type Config } from "./config.js";
import { DatabaseStartError, engineOfUrl, openDatabase, redactUrl, sqliteFilePath } from "./db/client.js";
import { migrate } from "./db/migrate.js";
import { prettyDestination } from "./http/pretty-log.js";
import { createSmtpSender } from "./mail/sender.js";
import { LocalFileStorage, S3FileStorage } from "./media/file-storage.js";
import { createPaymentGateway } from "./payments/from-config.js";
import { PostgresBroadcaster } from "./realtime/postgres-broadcaster.js";
import { createStorefront } from "./storefront.js";

/** Reads the environment; a wrong value prints one line per variable and exits 1. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.lines) console.error(line);
      process.exit(1);
    }
    throw err;
  }
}

/** Readable lines in a terminal, JSON otherwise (LOG_FORMAT decides when set). */
function loggerFor(config: Config) {
  const pretty = (config.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty";
  const logDestination = pretty ? prettyDestination(process.stdout, { color: Boolean(process.stdout.isTTY) }) : null;
  const logger = logDestination ? pino({ level: config.LOG_LEVEL }, logDestination) : pino({ level: config.LOG_LEVEL });
  return { logger, logDestination };
}

export async function bootShop(config: Config) {
  const { logger, logDestination } = loggerFor(config);
  const engine = engineOfUrl(config.DATABASE_URL);
  /** Where the data lives, for the start banner (a PostgreSQL URL without its password). */
  const dbFile = engine === "sqlite" ? sqliteFilePath(config.DATABASE_URL) : redactUrl(config.DATABASE_URL);
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
  const uploadsDir = engine === "sqlite" ? path.join(path.dirname(dbFile), "uploads") : path.resolve("data/uploads");
  const payments = createPaymentGateway(config);
  const files = config.S3_BUCKET
    ? new S3FileStorage({
        bucket: config.S3_BUCKET,
        prefix: config.S3_PREFIX,
        region: config.S3_REGION,
        endpoint: config.S3_ENDPOINT,
        forcePathStyle: config.S3_FORCE_PATH_STYLE,
        credentials: config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } : undefined,
      })
    : new LocalFileStorage(uploadsDir);
  // config.ts refuses SMTP_URL without MAIL_FROM and PUBLIC_URL.
  const mail = config.SMTP_URL ? { sender: createSmtpSender(config.SMTP_URL), from: config.MAIL_FROM! } : undefined;
  // Live shows across instances: on PostgreSQL, every instance hears every other through LISTEN/NOTIFY.
  const broadcaster =
    engine === "postgres"
      ? new PostgresBroadcaster(config.BROADCAST_DATABASE_URL ?? config.DATABASE_URL, {
          onConnectionChange: (state, err) => (state === "lost" ? logger.warn({ err: err?.message }, "live broadcast connection lost; reconnecting") : logger.info("live broadcast connection restored")),
        })
      : undefined;
  await broadcaster?.start();

  const shop = createStorefront({
    prisma,
    shopName: config.SHOP_NAME,
    currency: config.CURRENCY,
    locale: config.LOCALE,
    publicUrl: config.PUBLIC_URL,
    uploadsDir,
    files,
    logger,
    trustProxy: config.TRUST_PROXY,
    compression: config.COMPRESSION,
    rateLimitStore: rateLimitStoreOf(config),
    payments,
    mail,
    broadcaster,
    analytics: { retentionDays: config.ANALYTICS_RETENTION_DAYS, rollupRetentionDays: config.ANALYTICS_ROLLUP_RETENTION_DAYS },
  });
  const deps = shop.bazaarche.deps;
  /** Closes what the shop opened, after the jobs and the server stopped. */
  const close = async () => {
    // Buffered analytics events are written before the database closes.
    await flushEvents(deps);
    await mail?.sender.close();
    await Promise.all([prisma.$disconnect(), deps.rateLimits.close(), broadcaster?.close()]);
  };
  return { shop, deps, prisma, logger, logDestination, dbFile, uploadsDir, files, payments, mail, close };
}
