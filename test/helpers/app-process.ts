/**
 * One app instance in a child process, serving the storefront at /shop over
 * the database in DATABASE_URL, on an ephemeral port it prints as one JSON
 * line ({"port": n}). Several of these over one PostgreSQL database are what
 * production runs behind a load balancer; the race tests and `npm run
 * bench:db` spread requests over them (see ./processes.ts).
 *
 * Environment: DATABASE_URL; POOL_SIZE (default 5); STRIPE_PORT to pay
 * through the fake Stripe in the parent (./fake-stripe.ts), else the local
 * payment page; UPLOADS_DIR. The process exits when its stdin closes, so it
 * never outlives the test that started it.
 */
import os from "node:os";
import path from "node:path";
import express from "express";
import { pino } from "pino";
import { openDatabase } from "../../src/db/client.js";
import { LocalGateway } from "../../src/payments/local-gateway.js";
import { StripeGateway } from "../../src/payments/stripe-gateway.js";
import { createStorefront } from "../../src/storefront.js";
import { TEST_TRANSACTIONS } from "./engine.js";
import { WEBHOOK_SECRET } from "./fake-stripe.js";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required");
const db = await openDatabase(url, { poolSize: Number(process.env.POOL_SIZE ?? 5), transactions: TEST_TRANSACTIONS });
const stripePort = process.env.STRIPE_PORT ? Number(process.env.STRIPE_PORT) : null;
const shop = createStorefront({
  prisma: db,
  shopName: "Test Shop",
  currency: "USD",
  uploadsDir: process.env.UPLOADS_DIR ?? path.join(os.tmpdir(), `bazaarche-uploads-${process.pid}`),
  logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
  secret: "test-secret-that-is-at-least-32-characters-long",
  loginRateLimit: { windowMs: 60_000, limit: 10_000 },
  couponAttemptsPer15Min: 10_000,
  followSubmitsPer15Min: 10_000,
  payments: stripePort ? new StripeGateway({ secretKey: "sk_test_fake123", webhookSecret: WEBHOOK_SECRET, host: "127.0.0.1", port: stripePort, protocol: "http" }) : new LocalGateway(),
});
const app = express();
app.use("/shop", shop);
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => void db.$disconnect().finally(() => process.exit(0)));
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.once("SIGTERM", stop);
