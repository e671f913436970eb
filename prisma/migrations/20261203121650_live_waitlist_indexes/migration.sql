-- CreateIndex
CREATE INDEX "LiveWaitlist_itemId_status_createdAt_idx" ON "LiveWaitlist"("itemId", "status", "createdAt");

-- CreateIndex
CREATE INDEX "LiveWaitlist_liveSessionId_variantId_status_createdAt_id_idx" ON "LiveWaitlist"("liveSessionId", "variantId", "status", "createdAt", "id");

