-- DropIndex
DROP INDEX "Variant_productId_position_idx";

-- CreateIndex
CREATE INDEX "Variant_productId_position_id_idx" ON "Variant"("productId", "position", "id");

