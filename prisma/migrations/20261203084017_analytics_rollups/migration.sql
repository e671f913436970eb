-- AlterTable
ALTER TABLE "AnalyticsEvent" ADD COLUMN "couponId" TEXT;
ALTER TABLE "AnalyticsEvent" ADD COLUMN "host" TEXT;
ALTER TABLE "AnalyticsEvent" ADD COLUMN "platform" TEXT;
ALTER TABLE "AnalyticsEvent" ADD COLUMN "source" TEXT;
ALTER TABLE "AnalyticsEvent" ADD COLUMN "visitorKey" TEXT;

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

    PRIMARY KEY ("level", "startDay", "dimension", "key")
);

-- CreateTable
CREATE TABLE "AnalyticsDay" (
    "day" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "rolledAt" DATETIME NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 0,
    "dirty" BOOLEAN NOT NULL DEFAULT false
);

-- CreateIndex
CREATE INDEX "AnalyticsRollup_dimension_key_level_startDay_idx" ON "AnalyticsRollup"("dimension", "key", "level", "startDay");

-- CreateIndex
CREATE INDEX "Order_createdAt_idx" ON "Order"("createdAt");

-- CreateIndex
CREATE INDEX "Order_paidAt_idx" ON "Order"("paidAt");

-- CreateIndex
CREATE INDEX "AnalyticsEvent_at_id_idx" ON "AnalyticsEvent"("at", "id");

