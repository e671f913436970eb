-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_PostTag" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "postId" TEXT NOT NULL,
    "productId" TEXT,
    "productTitle" TEXT NOT NULL DEFAULT '',
    "variantId" TEXT,
    "x" REAL,
    "y" REAL,
    "startSec" REAL,
    "endSec" REAL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PostTag_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "PostTag_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "PostTag_variantId_fkey" FOREIGN KEY ("variantId") REFERENCES "Variant" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_PostTag" ("createdAt", "endSec", "id", "postId", "productId", "startSec", "variantId", "x", "y") SELECT "createdAt", "endSec", "id", "postId", "productId", "startSec", "variantId", "x", "y" FROM "PostTag";
DROP TABLE "PostTag";
ALTER TABLE "new_PostTag" RENAME TO "PostTag";
CREATE INDEX "PostTag_postId_idx" ON "PostTag"("postId");
CREATE INDEX "PostTag_productId_idx" ON "PostTag"("productId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

