-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Variant" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "productId" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "option1" TEXT,
    "option2" TEXT,
    "option3" TEXT,
    "priceMinor" INTEGER NOT NULL,
    "compareAtMinor" INTEGER,
    "currency" TEXT NOT NULL,
    "stock" INTEGER NOT NULL DEFAULT 0,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "gtin" TEXT,
    "mpn" TEXT,
    "weightGrams" INTEGER,
    "position" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "archivedAt" DATETIME,
    CONSTRAINT "Variant_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Variant" ("archivedAt", "compareAtMinor", "createdAt", "currency", "gtin", "id", "mpn", "option1", "option2", "option3", "position", "priceMinor", "productId", "sku", "stock", "updatedAt", "weightGrams") SELECT "archivedAt", "compareAtMinor", "createdAt", "currency", "gtin", "id", "mpn", "option1", "option2", "option3", "position", "priceMinor", "productId", "sku", "stock", "updatedAt", "weightGrams" FROM "Variant";
DROP TABLE "Variant";
ALTER TABLE "new_Variant" RENAME TO "Variant";
CREATE UNIQUE INDEX "Variant_sku_key" ON "Variant"("sku");
CREATE INDEX "Variant_productId_position_idx" ON "Variant"("productId", "position");
CREATE TABLE "new_Order" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "number" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "currency" TEXT NOT NULL,
    "subtotalMinor" INTEGER NOT NULL,
    "discountMinor" INTEGER NOT NULL DEFAULT 0,
    "shippingMinor" INTEGER NOT NULL DEFAULT 0,
    "taxMinor" INTEGER NOT NULL DEFAULT 0,
    "totalMinor" INTEGER NOT NULL,
    "refundedMinor" INTEGER NOT NULL DEFAULT 0,
    "email" TEXT,
    "customerName" TEXT,
    "shippingAddress" TEXT,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "paymentProvider" TEXT NOT NULL,
    "paymentRef" TEXT,
    "accessKeyHash" TEXT,
    "shippingOption" TEXT,
    "amountMismatch" BOOLEAN NOT NULL DEFAULT false,
    "paymentIntentId" TEXT,
    "couponId" TEXT,
    "linkId" TEXT,
    "postId" TEXT,
    "liveSessionId" TEXT,
    "channel" TEXT,
    "visitorId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME,
    "paidAt" DATETIME,
    "fulfilledAt" DATETIME,
    "cancelledAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Order_couponId_fkey" FOREIGN KEY ("couponId") REFERENCES "Coupon" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Order_linkId_fkey" FOREIGN KEY ("linkId") REFERENCES "ShortLink" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Order_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Order_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Order" ("cancelledAt", "channel", "couponId", "createdAt", "currency", "customerName", "discountMinor", "email", "expiresAt", "fulfilledAt", "id", "linkId", "liveSessionId", "locale", "number", "paidAt", "paymentIntentId", "paymentProvider", "paymentRef", "postId", "refundedMinor", "shippingAddress", "shippingMinor", "status", "subtotalMinor", "taxMinor", "totalMinor", "updatedAt", "visitorId") SELECT "cancelledAt", "channel", "couponId", "createdAt", "currency", "customerName", "discountMinor", "email", "expiresAt", "fulfilledAt", "id", "linkId", "liveSessionId", "locale", "number", "paidAt", "paymentIntentId", "paymentProvider", "paymentRef", "postId", "refundedMinor", "shippingAddress", "shippingMinor", "status", "subtotalMinor", "taxMinor", "totalMinor", "updatedAt", "visitorId" FROM "Order";
DROP TABLE "Order";
ALTER TABLE "new_Order" RENAME TO "Order";
CREATE UNIQUE INDEX "Order_number_key" ON "Order"("number");
CREATE UNIQUE INDEX "Order_paymentRef_key" ON "Order"("paymentRef");
CREATE INDEX "Order_status_createdAt_idx" ON "Order"("status", "createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

