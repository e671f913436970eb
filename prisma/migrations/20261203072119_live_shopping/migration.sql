-- CreateTable
CREATE TABLE "LiveEvent" (
    "liveSessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "audience" TEXT NOT NULL DEFAULT 'all',
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("liveSessionId", "seq"),
    CONSTRAINT "LiveEvent_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveFeature" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "liveSessionId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    CONSTRAINT "LiveFeature_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveFlashDeal" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "liveSessionId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "priceMinor" INTEGER NOT NULL,
    "unitCap" INTEGER NOT NULL,
    "perBuyerLimit" INTEGER NOT NULL DEFAULT 1,
    "followersOnly" BOOLEAN NOT NULL DEFAULT false,
    "minFollowDays" INTEGER,
    "requiredVerification" TEXT NOT NULL DEFAULT 'any',
    "startsAt" DATETIME NOT NULL,
    "endsAt" DATETIME NOT NULL,
    "stoppedAt" DATETIME,
    "endAnnouncedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LiveFlashDeal_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveWaitlist" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "liveSessionId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "variantId" TEXT NOT NULL,
    "claimant" TEXT NOT NULL,
    "handle" TEXT,
    "platform" TEXT,
    "email" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "status" TEXT NOT NULL DEFAULT 'waiting',
    "offeredClaimId" TEXT,
    "offeredAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LiveWaitlist_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveComment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "liveSessionId" TEXT NOT NULL,
    "handle" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reply" TEXT NOT NULL,
    "claimId" TEXT,
    "itemId" TEXT,
    "resolvedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LiveComment_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveQuestion" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "liveSessionId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "text" TEXT NOT NULL,
    "visitorId" TEXT NOT NULL,
    "answer" TEXT,
    "answeredAt" DATETIME,
    "hiddenAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LiveQuestion_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "LiveReminder" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "liveSessionId" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "followerId" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "queuedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LiveReminder_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- AlterTable: columns are added in place (ALTER TABLE ... ADD COLUMN), never
-- by rebuilding the table, so columns other migrations add in parallel survive.
ALTER TABLE "LiveSession" ADD COLUMN "replayUrl" TEXT NOT NULL DEFAULT '';
ALTER TABLE "LiveSession" ADD COLUMN "pinnedMessage" TEXT NOT NULL DEFAULT '';
ALTER TABLE "LiveSession" ADD COLUMN "eventSeq" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "LiveSession" ADD COLUMN "peakViewers" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "LiveItem" ADD COLUMN "perBuyerLimit" INTEGER;
ALTER TABLE "LiveItem" ADD COLUMN "quantityCap" INTEGER;
ALTER TABLE "LiveItem" ADD COLUMN "followerPriceMinor" INTEGER;
ALTER TABLE "LiveItem" ADD COLUMN "followerMinDays" INTEGER;
ALTER TABLE "LiveItem" ADD COLUMN "followerVerification" TEXT NOT NULL DEFAULT 'any';
ALTER TABLE "LiveItem" ADD COLUMN "lockSeq" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "LiveClaim" ADD COLUMN "itemId" TEXT;
ALTER TABLE "LiveClaim" ADD COLUMN "unitPriceMinor" INTEGER;
ALTER TABLE "LiveClaim" ADD COLUMN "priceKind" TEXT NOT NULL DEFAULT 'regular';
ALTER TABLE "LiveClaim" ADD COLUMN "flashDealId" TEXT;
ALTER TABLE "LiveClaim" ADD COLUMN "handle" TEXT;
ALTER TABLE "LiveClaim" ADD COLUMN "platform" TEXT;
ALTER TABLE "LiveClaim" ADD COLUMN "email" TEXT;

-- CreateIndex
CREATE INDEX "LiveFeature_liveSessionId_at_idx" ON "LiveFeature"("liveSessionId", "at");

-- CreateIndex
CREATE INDEX "LiveFlashDeal_liveSessionId_endsAt_idx" ON "LiveFlashDeal"("liveSessionId", "endsAt");

-- CreateIndex
CREATE INDEX "LiveWaitlist_variantId_status_createdAt_idx" ON "LiveWaitlist"("variantId", "status", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "LiveWaitlist_liveSessionId_variantId_claimant_key" ON "LiveWaitlist"("liveSessionId", "variantId", "claimant");

-- CreateIndex
CREATE INDEX "LiveComment_liveSessionId_outcome_createdAt_idx" ON "LiveComment"("liveSessionId", "outcome", "createdAt");

-- CreateIndex
CREATE INDEX "LiveQuestion_liveSessionId_createdAt_idx" ON "LiveQuestion"("liveSessionId", "createdAt");

-- CreateIndex
CREATE INDEX "LiveReminder_liveSessionId_queuedAt_idx" ON "LiveReminder"("liveSessionId", "queuedAt");

-- CreateIndex
CREATE UNIQUE INDEX "LiveReminder_liveSessionId_email_key" ON "LiveReminder"("liveSessionId", "email");


-- CreateIndex
CREATE INDEX "LiveClaim_itemId_claimant_idx" ON "LiveClaim"("itemId", "claimant");
