-- CreateIndex
CREATE INDEX "Review_lowest_first_idx" ON "Review"("productId", "status", "rating", "createdAt" DESC);

