-- AlterTable
ALTER TABLE "OutboxEmail" ADD COLUMN "sendAfter" DATETIME;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Review" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "productId" TEXT NOT NULL,
    "variantId" TEXT,
    "orderId" TEXT,
    "rating" INTEGER NOT NULL,
    "title" TEXT NOT NULL DEFAULT '',
    "body" TEXT NOT NULL DEFAULT '',
    "displayName" TEXT NOT NULL,
    "email" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "status" TEXT NOT NULL DEFAULT 'pending',
    "verifiedBuyer" BOOLEAN NOT NULL DEFAULT false,
    "incentivized" BOOLEAN NOT NULL DEFAULT false,
    "source" TEXT NOT NULL DEFAULT 'web',
    "contentHash" TEXT NOT NULL DEFAULT '',
    "helpfulCount" INTEGER NOT NULL DEFAULT 0,
    "orderLineId" TEXT,
    "hasPhotos" BOOLEAN NOT NULL DEFAULT false,
    "flags" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "publishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Review_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Review_variantId_fkey" FOREIGN KEY ("variantId") REFERENCES "Variant" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Review_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Review" ("body", "contentHash", "createdAt", "displayName", "email", "helpfulCount", "id", "incentivized", "locale", "orderId", "productId", "publishedAt", "rating", "source", "status", "title", "updatedAt", "variantId", "verifiedBuyer") SELECT "body", "contentHash", "createdAt", "displayName", "email", "helpfulCount", "id", "incentivized", "locale", "orderId", "productId", "publishedAt", "rating", "source", "status", "title", "updatedAt", "variantId", "verifiedBuyer" FROM "Review";
DROP TABLE "Review";
ALTER TABLE "new_Review" RENAME TO "Review";
CREATE UNIQUE INDEX "Review_orderLineId_key" ON "Review"("orderLineId");
CREATE INDEX "Review_productId_status_createdAt_idx" ON "Review"("productId", "status", "createdAt");
CREATE INDEX "Review_status_createdAt_idx" ON "Review"("status", "createdAt");
CREATE INDEX "Review_productId_status_rating_createdAt_idx" ON "Review"("productId", "status", "rating", "createdAt");
CREATE INDEX "Review_productId_status_helpfulCount_createdAt_idx" ON "Review"("productId", "status", "helpfulCount", "createdAt");
CREATE INDEX "Review_productId_status_hasPhotos_createdAt_idx" ON "Review"("productId", "status", "hasPhotos", "createdAt");
CREATE INDEX "Review_contentHash_idx" ON "Review"("contentHash");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Question_answeredAt_createdAt_idx" ON "Question"("answeredAt", "createdAt");

-- CreateIndex
CREATE INDEX "OrderLine_productId_idx" ON "OrderLine"("productId");


-- Reviews that already have photos sort as such.
UPDATE "Review" SET "hasPhotos" = true WHERE EXISTS (SELECT 1 FROM "ReviewPhoto" p WHERE p."reviewId" = "Review"."id");
