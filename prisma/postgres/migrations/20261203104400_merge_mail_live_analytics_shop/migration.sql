-- AlterTable
ALTER TABLE "Product" ADD COLUMN     "ageGroup" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "color" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "gender" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "size" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "cancelReason" TEXT;

-- AlterTable
ALTER TABLE "Refund" ADD COLUMN     "claimKey" TEXT;

-- AlterTable
ALTER TABLE "Follower" ADD COLUMN     "locale" TEXT;

-- AlterTable
ALTER TABLE "LiveSession" ADD COLUMN     "eventSeq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "peakViewers" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pinnedMessage" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "replayUrl" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "LiveItem" ADD COLUMN     "followerMinDays" INTEGER,
ADD COLUMN     "followerPriceMinor" INTEGER,
ADD COLUMN     "followerVerification" TEXT NOT NULL DEFAULT 'any',
ADD COLUMN     "lockSeq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "perBuyerLimit" INTEGER,
ADD COLUMN     "quantityCap" INTEGER;

-- AlterTable
ALTER TABLE "LiveClaim" ADD COLUMN     "email" TEXT,
ADD COLUMN     "flashDealId" TEXT,
ADD COLUMN     "handle" TEXT,
ADD COLUMN     "itemId" TEXT,
ADD COLUMN     "platform" TEXT,
ADD COLUMN     "priceKind" TEXT NOT NULL DEFAULT 'regular',
ADD COLUMN     "unitPriceMinor" INTEGER;

-- AlterTable
ALTER TABLE "AnalyticsEvent" ADD COLUMN     "couponId" TEXT,
ADD COLUMN     "host" TEXT,
ADD COLUMN     "platform" TEXT,
ADD COLUMN     "source" TEXT,
ADD COLUMN     "visitorKey" TEXT;

-- AlterTable
ALTER TABLE "OutboxEmail" ADD COLUMN     "category" TEXT NOT NULL DEFAULT 'transactional',
ADD COLUMN     "lastAttemptAt" TIMESTAMPTZ(3),
ADD COLUMN     "leaseOwner" TEXT,
ADD COLUMN     "leaseUntil" TIMESTAMPTZ(3),
ADD COLUMN     "locale" TEXT,
ADD COLUMN     "messageId" TEXT,
ADD COLUMN     "nextAttemptAt" TIMESTAMPTZ(3),
ADD COLUMN     "notes" TEXT,
ADD COLUMN     "smtpResponse" TEXT,
ADD COLUMN     "toName" TEXT,
ADD COLUMN     "unsubscribeToken" TEXT;

-- CreateTable
CREATE TABLE "RateLimitHit" (
    "key" TEXT NOT NULL,
    "hits" INTEGER NOT NULL DEFAULT 0,
    "resetAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RateLimitHit_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "LiveEvent" (
    "liveSessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "audience" TEXT NOT NULL DEFAULT 'all',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiveEvent_pkey" PRIMARY KEY ("liveSessionId","seq")
);

-- CreateTable
CREATE TABLE "LiveFeature" (
    "id" TEXT NOT NULL,
    "liveSessionId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LiveFeature_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveFlashDeal" (
    "id" TEXT NOT NULL,
    "liveSessionId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "priceMinor" INTEGER NOT NULL,
    "unitCap" INTEGER NOT NULL,
    "perBuyerLimit" INTEGER NOT NULL DEFAULT 1,
    "followersOnly" BOOLEAN NOT NULL DEFAULT false,
    "minFollowDays" INTEGER,
    "requiredVerification" TEXT NOT NULL DEFAULT 'any',
    "startsAt" TIMESTAMPTZ(3) NOT NULL,
    "endsAt" TIMESTAMPTZ(3) NOT NULL,
    "stoppedAt" TIMESTAMPTZ(3),
    "endAnnouncedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiveFlashDeal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveWaitlist" (
    "id" TEXT NOT NULL,
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
    "offeredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiveWaitlist_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveComment" (
    "id" TEXT NOT NULL,
    "liveSessionId" TEXT NOT NULL,
    "handle" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reply" TEXT NOT NULL,
    "claimId" TEXT,
    "itemId" TEXT,
    "resolvedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiveComment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveQuestion" (
    "id" TEXT NOT NULL,
    "liveSessionId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "text" TEXT NOT NULL,
    "visitorId" TEXT NOT NULL,
    "answer" TEXT,
    "answeredAt" TIMESTAMPTZ(3),
    "hiddenAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiveQuestion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveReminder" (
    "id" TEXT NOT NULL,
    "liveSessionId" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "followerId" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "queuedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LiveReminder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AnalyticsRollup" (
    "level" INTEGER NOT NULL,
    "startDay" INTEGER NOT NULL,
    "dimension" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "visits" INTEGER NOT NULL DEFAULT 0,
    "clicks" INTEGER NOT NULL DEFAULT 0,
    "productViews" INTEGER NOT NULL DEFAULT 0,
    "postViews" INTEGER NOT NULL DEFAULT 0,
    "galleryViews" INTEGER NOT NULL DEFAULT 0,
    "carts" INTEGER NOT NULL DEFAULT 0,
    "checkouts" INTEGER NOT NULL DEFAULT 0,
    "orders" INTEGER NOT NULL DEFAULT 0,
    "units" INTEGER NOT NULL DEFAULT 0,
    "revenueMinor" INTEGER NOT NULL DEFAULT 0,
    "discountMinor" INTEGER NOT NULL DEFAULT 0,
    "refunds" INTEGER NOT NULL DEFAULT 0,
    "refundedMinor" INTEGER NOT NULL DEFAULT 0,
    "couponApplications" INTEGER NOT NULL DEFAULT 0,
    "follows" INTEGER NOT NULL DEFAULT 0,
    "liveJoins" INTEGER NOT NULL DEFAULT 0,
    "liveClaims" INTEGER NOT NULL DEFAULT 0,
    "otherCurrencyOrders" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "AnalyticsRollup_pkey" PRIMARY KEY ("level","startDay","dimension","key")
);

-- CreateTable
CREATE TABLE "AnalyticsDay" (
    "day" INTEGER NOT NULL,
    "rolledAt" TIMESTAMPTZ(3) NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 0,
    "dirty" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "AnalyticsDay_pkey" PRIMARY KEY ("day")
);

-- CreateTable
CREATE TABLE "EmailSuppression" (
    "emailKey" TEXT NOT NULL,
    "reason" TEXT NOT NULL DEFAULT 'unsubscribe',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EmailSuppression_pkey" PRIMARY KEY ("emailKey")
);

-- CreateTable
CREATE TABLE "JobLease" (
    "name" TEXT NOT NULL,
    "owner" TEXT,
    "runId" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),
    "nextRunAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastStartedAt" TIMESTAMPTZ(3),
    "lastFinishedAt" TIMESTAMPTZ(3),
    "lastDurationMs" INTEGER,
    "lastStatus" TEXT,
    "lastResult" TEXT,
    "lastError" TEXT,
    "progressDone" INTEGER,
    "progressTotal" INTEGER,
    "progressNote" TEXT,
    "progressAt" TIMESTAMPTZ(3),
    "runs" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "JobLease_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "LowStockThreshold" (
    "variantId" TEXT NOT NULL,
    "threshold" INTEGER NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LowStockThreshold_pkey" PRIMARY KEY ("variantId")
);

-- CreateTable
CREATE TABLE "LowStockAlert" (
    "variantId" TEXT NOT NULL,
    "stock" INTEGER NOT NULL,
    "alertedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LowStockAlert_pkey" PRIMARY KEY ("variantId")
);

-- CreateIndex
CREATE INDEX "RateLimitHit_resetAt_idx" ON "RateLimitHit"("resetAt");

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
CREATE INDEX "AnalyticsRollup_dimension_key_level_startDay_idx" ON "AnalyticsRollup"("dimension", "key", "level", "startDay");

-- CreateIndex
CREATE INDEX "Order_createdAt_idx" ON "Order"("createdAt");

-- CreateIndex
CREATE INDEX "Order_paidAt_idx" ON "Order"("paidAt");

-- CreateIndex
CREATE UNIQUE INDEX "Refund_claimKey_key" ON "Refund"("claimKey");

-- CreateIndex
CREATE INDEX "LiveClaim_itemId_claimant_idx" ON "LiveClaim"("itemId", "claimant");

-- CreateIndex
CREATE INDEX "AnalyticsEvent_at_id_idx" ON "AnalyticsEvent"("at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "OutboxEmail_unsubscribeToken_key" ON "OutboxEmail"("unsubscribeToken");

-- CreateIndex
CREATE INDEX "OutboxEmail_status_nextAttemptAt_idx" ON "OutboxEmail"("status", "nextAttemptAt");

-- AddForeignKey
ALTER TABLE "LiveEvent" ADD CONSTRAINT "LiveEvent_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveFeature" ADD CONSTRAINT "LiveFeature_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveFlashDeal" ADD CONSTRAINT "LiveFlashDeal_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveWaitlist" ADD CONSTRAINT "LiveWaitlist_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveComment" ADD CONSTRAINT "LiveComment_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveQuestion" ADD CONSTRAINT "LiveQuestion_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveReminder" ADD CONSTRAINT "LiveReminder_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

