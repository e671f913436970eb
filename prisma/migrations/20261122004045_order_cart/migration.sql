-- AlterTable
ALTER TABLE "Order" ADD COLUMN "cartId" TEXT;

-- CreateIndex
CREATE INDEX "Order_cartId_status_idx" ON "Order"("cartId", "status");

