-- CreateTable
CREATE TABLE "EmailSuppression" (
    "emailKey" TEXT NOT NULL PRIMARY KEY,
    "reason" TEXT NOT NULL DEFAULT 'unsubscribe',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "JobLease" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "owner" TEXT,
    "runId" TEXT,
    "leaseUntil" DATETIME,
    "nextRunAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastStartedAt" DATETIME,
    "lastFinishedAt" DATETIME,
    "lastDurationMs" INTEGER,
    "lastStatus" TEXT,
    "lastResult" TEXT,
    "lastError" TEXT,
    "progressDone" INTEGER,
    "progressTotal" INTEGER,
    "progressNote" TEXT,
    "progressAt" DATETIME,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "LowStockThreshold" (
    "variantId" TEXT NOT NULL PRIMARY KEY,
    "threshold" INTEGER NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "LowStockAlert" (
    "variantId" TEXT NOT NULL PRIMARY KEY,
    "stock" INTEGER NOT NULL,
    "alertedAt" DATETIME NOT NULL
);

-- AlterTable
ALTER TABLE "Follower" ADD COLUMN "locale" TEXT;

-- AlterTable (added columns only: the table is not rebuilt, so columns other branches add survive)
ALTER TABLE "OutboxEmail" ADD COLUMN "toName" TEXT;
ALTER TABLE "OutboxEmail" ADD COLUMN "locale" TEXT;
ALTER TABLE "OutboxEmail" ADD COLUMN "category" TEXT NOT NULL DEFAULT 'transactional';
ALTER TABLE "OutboxEmail" ADD COLUMN "nextAttemptAt" DATETIME;
ALTER TABLE "OutboxEmail" ADD COLUMN "leaseOwner" TEXT;
ALTER TABLE "OutboxEmail" ADD COLUMN "leaseUntil" DATETIME;
ALTER TABLE "OutboxEmail" ADD COLUMN "lastAttemptAt" DATETIME;
ALTER TABLE "OutboxEmail" ADD COLUMN "messageId" TEXT;
ALTER TABLE "OutboxEmail" ADD COLUMN "smtpResponse" TEXT;
ALTER TABLE "OutboxEmail" ADD COLUMN "notes" TEXT;
ALTER TABLE "OutboxEmail" ADD COLUMN "unsubscribeToken" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "OutboxEmail_unsubscribeToken_key" ON "OutboxEmail"("unsubscribeToken");

-- CreateIndex
CREATE INDEX "OutboxEmail_status_nextAttemptAt_idx" ON "OutboxEmail"("status", "nextAttemptAt");
