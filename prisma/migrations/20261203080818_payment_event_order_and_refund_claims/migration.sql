-- AlterTable
ALTER TABLE "Order" ADD COLUMN "cancelReason" TEXT;

-- AlterTable
ALTER TABLE "Refund" ADD COLUMN "claimKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Refund_claimKey_key" ON "Refund"("claimKey");

