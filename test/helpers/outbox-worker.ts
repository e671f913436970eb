// A worker process for the "killed mid-send" test: claims and sends due emails
// once, with the real clock, until the test kills it (SIGKILL) inside DATA.
import { pino } from "pino";
import { openDatabase } from "../../src/db/client.js";
import { sendDueEmails } from "../../src/mail/outbox.service.js";
import { createSmtpSender } from "../../src/mail/sender.js";
import { createStorefront } from "../../src/storefront.js";

// The test's database (SQLite file or PostgreSQL), as a second app instance would open it.
const prisma = await openDatabase(process.env.DB_URL!);
const sender = createSmtpSender(process.env.SMTP_URL!);
const deps = createStorefront({
  prisma,
  publicUrl: process.env.PUBLIC_URL,
  logger: pino({ level: "silent" }),
  secret: "test-secret-that-is-at-least-32-characters-long",
  mail: { sender, from: "Test Shop <shop@example.com>", leaseMs: Number(process.env.LEASE_MS), batchSize: Number(process.env.BATCH_SIZE ?? 20) },
}).bazaarche.deps;
const result = await sendDueEmails(deps, { owner: `child-worker:${process.pid}` });
console.log(`RESULT ${JSON.stringify(result)}`);
await sender.close();
await prisma.$disconnect();
