// npm run reconcile [-- --older-than <minutes>] [-- --json]
//
// Finds pending orders whose payment went through at the provider but whose
// webhook never arrived, and settles them exactly as the webhook would (the
// same markOrderPaid, so running it twice, or alongside the server, changes
// nothing twice). Checkouts the provider has expired are cancelled and their
// stock released. Reads the same environment as `npm start`.
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { z } from "zod";
import { ConfigError, loadConfig } from "../config.js";
import { DatabaseStartError, engineOfUrl, openDatabase, sqliteFilePath } from "../db/client.js";
import { migrate } from "../db/migrate.js";
import { createPaymentGateway } from "../payments/from-config.js";
import { createStorefront } from "../storefront.js";
import { reconcilePendingOrders } from "./checkout.service.js";

const Args = z.object({
  olderThan: z.coerce
    .number({ message: "--older-than: a whole number of minutes, e.g. 5" })
    .int("--older-than: a whole number of minutes, e.g. 5")
    .min(0, "--older-than: 0 or more minutes")
    .max(7 * 24 * 60, "--older-than: at most 10080 minutes (7 days)")
    .default(5),
  json: z.boolean().default(false),
});

function fail(lines: string[]): never {
  for (const line of lines) console.error(line);
  process.exit(1);
}

async function main() {
  let raw;
  try {
    raw = parseArgs({ options: { "older-than": { type: "string" }, json: { type: "boolean" } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    fail([(err as Error).message, "Usage: npm run reconcile -- [--older-than <minutes>] [--json]"]);
  }
  const args = Args.safeParse({ olderThan: raw["older-than"], json: raw.json });
  if (!args.success) fail(args.error.issues.map((i) => i.message));

  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.lines);
    throw err;
  }
  const sqlite = engineOfUrl(config.DATABASE_URL) === "sqlite";
  const dbFile = sqlite ? sqliteFilePath(config.DATABASE_URL) : null;
  // Opening a missing file would create an empty database; say what is wrong instead.
  if (dbFile && !existsSync(dbFile)) fail([`No database at ${dbFile}. Start the shop once (npm start) or set DATABASE_URL.`]);
  let prisma;
  try {
    await migrate(config.DATABASE_URL);
    prisma = await openDatabase(config.DATABASE_URL, { poolSize: 2 });
  } catch (err) {
    if (err instanceof DatabaseStartError) fail([err.message]);
    throw err;
  }
  const payments = createPaymentGateway(config);
  try {
    // The same deps the server builds (currency, shipping options, clock),
    // without listening on a port.
    const { deps } = createStorefront({
      prisma,
      shopName: config.SHOP_NAME,
      currency: config.CURRENCY,
      locale: config.LOCALE,
      publicUrl: config.PUBLIC_URL,
      uploadsDir: dbFile ? path.join(path.dirname(dbFile), "uploads") : path.resolve("data/uploads"),
      // Logs go to stderr so stdout is only the report (and --json stays parseable).
      logger: pino({ level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL }, pino.destination(2)),
      payments,
    }).bazaarche;
    const report = await reconcilePendingOrders(deps, { olderThanMinutes: args.data.olderThan });
    if (args.data.json) {
      console.log(JSON.stringify({ provider: payments.provider, olderThanMinutes: args.data.olderThan, ...report }));
    } else {
      const list = (numbers: number[]) => (numbers.length ? `  (${numbers.map((n) => `#${n}`).join(", ")})` : "");
      console.log(
        [
          `Reconciled pending orders older than ${args.data.olderThan} minutes with ${payments.provider === "stripe" ? "Stripe" : "the local payment page"}:`,
          `  checked:   ${report.checked}`,
          `  paid:      ${report.paid.length}${list(report.paid)}`,
          `  cancelled: ${report.cancelled.length}${list(report.cancelled)}`,
          `  open:      ${report.open.length}${list(report.open)}`,
          ...(payments.provider === "local" && report.open.length
            ? ["  (The local payment page settles orders itself; open ones are cancelled when their hold expires.)"]
            : []),
        ].join("\n"),
      );
    }
  } finally {
    await prisma.$disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
