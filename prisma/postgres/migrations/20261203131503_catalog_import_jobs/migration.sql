-- CreateTable
CREATE TABLE "CatalogImport" (
    "id" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,
    "fileName" TEXT NOT NULL,
    "fileBytes" BYTEA NOT NULL,
    "fileSha256" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "format" TEXT,
    "header" TEXT,
    "headerLine" INTEGER,
    "readOffset" INTEGER NOT NULL DEFAULT 0,
    "readFeeds" INTEGER NOT NULL DEFAULT 0,
    "rowsRead" INTEGER NOT NULL DEFAULT 0,
    "productsTotal" INTEGER NOT NULL DEFAULT 0,
    "cursor" INTEGER NOT NULL DEFAULT -1,
    "productsChecked" INTEGER NOT NULL DEFAULT 0,
    "createProducts" INTEGER NOT NULL DEFAULT 0,
    "updateProducts" INTEGER NOT NULL DEFAULT 0,
    "keepProducts" INTEGER NOT NULL DEFAULT 0,
    "createVariants" INTEGER NOT NULL DEFAULT 0,
    "updateVariants" INTEGER NOT NULL DEFAULT 0,
    "archiveVariants" INTEGER NOT NULL DEFAULT 0,
    "problemCount" INTEGER NOT NULL DEFAULT 0,
    "warningCount" INTEGER NOT NULL DEFAULT 0,
    "noteSeq" INTEGER NOT NULL DEFAULT 0,
    "valid" BOOLEAN,
    "digest" TEXT,
    "checkedAt" TIMESTAMPTZ(3),
    "collectionsDone" BOOLEAN NOT NULL DEFAULT false,
    "createdCollections" TEXT NOT NULL DEFAULT '[]',
    "productsPassed" INTEGER NOT NULL DEFAULT 0,
    "productsWritten" INTEGER NOT NULL DEFAULT 0,
    "productsUndone" INTEGER NOT NULL DEFAULT 0,
    "productsKept" INTEGER NOT NULL DEFAULT 0,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "errorCode" TEXT,
    "error" TEXT,
    "errorLine" INTEGER,
    "errorColumn" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),
    "takeovers" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "cleaned" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "CatalogImport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CatalogImportRow" (
    "importId" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "line" INTEGER NOT NULL,
    "handle" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "first" BOOLEAN NOT NULL,
    "fields" TEXT NOT NULL,

    CONSTRAINT "CatalogImportRow_pkey" PRIMARY KEY ("importId","ordinal")
);

-- CreateTable
CREATE TABLE "CatalogImportItem" (
    "importId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "handle" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "vCreate" INTEGER NOT NULL,
    "vUpdate" INTEGER NOT NULL,
    "vArchive" INTEGER NOT NULL,
    "productId" TEXT,
    "writtenAt" TIMESTAMPTZ(3),
    "before" TEXT,
    "after" TEXT,
    "publishAs" TEXT,
    "undo" TEXT,

    CONSTRAINT "CatalogImportItem_pkey" PRIMARY KEY ("importId","seq")
);

-- CreateTable
CREATE TABLE "CatalogImportKey" (
    "importId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "line" INTEGER NOT NULL,

    CONSTRAINT "CatalogImportKey_pkey" PRIMARY KEY ("importId","kind","key")
);

-- CreateTable
CREATE TABLE "CatalogImportNote" (
    "id" TEXT NOT NULL,
    "importId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "column" TEXT,
    "place" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "message" TEXT NOT NULL,

    CONSTRAINT "CatalogImportNote_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CatalogImport_status_createdAt_id_idx" ON "CatalogImport"("status", "createdAt", "id");

-- CreateIndex
CREATE INDEX "CatalogImport_actorType_actorId_createdAt_idx" ON "CatalogImport"("actorType", "actorId", "createdAt");

-- CreateIndex
CREATE INDEX "CatalogImportRow_importId_handle_first_idx" ON "CatalogImportRow"("importId", "handle", "first");

-- CreateIndex
CREATE INDEX "CatalogImportRow_importId_first_seq_idx" ON "CatalogImportRow"("importId", "first", "seq");

-- CreateIndex
CREATE INDEX "CatalogImportRow_importId_seq_ordinal_idx" ON "CatalogImportRow"("importId", "seq", "ordinal");

-- CreateIndex
CREATE INDEX "CatalogImportNote_importId_kind_line_place_seq_idx" ON "CatalogImportNote"("importId", "kind", "line", "place", "seq");

-- AddForeignKey
ALTER TABLE "CatalogImportRow" ADD CONSTRAINT "CatalogImportRow_importId_fkey" FOREIGN KEY ("importId") REFERENCES "CatalogImport"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CatalogImportItem" ADD CONSTRAINT "CatalogImportItem_importId_fkey" FOREIGN KEY ("importId") REFERENCES "CatalogImport"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CatalogImportKey" ADD CONSTRAINT "CatalogImportKey_importId_fkey" FOREIGN KEY ("importId") REFERENCES "CatalogImport"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CatalogImportNote" ADD CONSTRAINT "CatalogImportNote_importId_fkey" FOREIGN KEY ("importId") REFERENCES "CatalogImport"("id") ON DELETE CASCADE ON UPDATE CASCADE;

