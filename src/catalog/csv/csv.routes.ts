import { Router, type Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { filesOf, multipartForm } from "../../http/uploads.js";
import { validate } from "../../http/validate.js";
import { streamCatalogCsv } from "./csv-export.service.js";
import {
  applyCatalogImport,
  loadPendingImport,
  PENDING_TTL_MS,
  previewCatalogImport,
  savePendingImport,
  updatePendingDigest,
} from "./csv-import.service.js";
import { ApplyImportBody, MAX_CSV_BYTES, OUR_COLUMNS, OUR_REQUIRED_COLUMNS, UploadedCsv, UploadQuery, type ImportReport } from "./csv.schema.js";

/** Sends the catalog as a CSV download, streamed batch by batch. */
export async function sendCatalogCsv(deps: Deps, res: Response) {
  const day = deps.now().toISOString().slice(0, 10);
  res.set({
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="products-${day}.csv"`,
    "Cache-Control": "no-store",
  });
  await streamCatalogCsv(deps, { out: res });
}

/**
 * /admin/products/import and /admin/products/export.csv (HTML, signed-in
 * admin, CSRF-checked). Mounted before the product pages so "import" is not
 * read as a product id.
 */
export function csvAdminRoutes(deps: Deps) {
  const router = Router();
  const upload = multipartForm({ fields: [{ name: "file", maxCount: 1 }], maxFileBytes: MAX_CSV_BYTES });

  const render = (res: Response, status: number, view: Record<string, unknown> = {}) => {
    res.status(status).render("admin/products-import", {
      layout: "admin",
      title: res.locals.t("csv.title"),
      nav: "products",
      maxMb: MAX_CSV_BYTES / 1024 / 1024,
      ttlMinutes: PENDING_TTL_MS / 60_000,
      columns: OUR_COLUMNS,
      required: OUR_REQUIRED_COLUMNS.join(", "),
      ...view,
    });
  };

  router.get("/export.csv", async (_req, res) => {
    await sendCatalogCsv(deps, res);
  });

  router.get("/import", (_req, res) => {
    render(res, 200);
  });

  router.post("/import", upload, validate({ query: UploadQuery }), async (req, res) => {
    const file = UploadedCsv.safeParse(filesOf(req, "file")[0]);
    if (!file.success) throw AppError.validation("file: choose a CSV file to check.", [{ field: "file", message: "no file" }]);
    const { digest, ...report } = await previewCatalogImport(deps, { bytes: file.data.buffer });
    const fileName = file.data.originalname || "products.csv";
    // Only a valid file that changes something can be applied, so only such a file is kept.
    const view = present(report);
    const importId = view.hasChanges && report.valid ? await savePendingImport(deps, { adminId: res.locals.admin.id, fileName, bytes: file.data.buffer, digest }) : undefined;
    render(res, report.valid ? 200 : 422, { report: view, fileName, importId });
  });

  router.post("/import/apply", validate({ body: ApplyImportBody }), async (req, res) => {
    const pending = await loadPendingImport(deps, { id: req.valid.body.importId, adminId: res.locals.admin.id });
    const { planChanged, digest, ...report } = await applyCatalogImport(deps, {
      bytes: pending.bytes,
      fileName: pending.fileName,
      actor: { type: "admin", id: res.locals.admin.id },
      expectedDigest: pending.digest,
      pendingId: pending.id,
    });
    if (planChanged) {
      // Show what would happen now and let the person confirm that instead.
      await updatePendingDigest(deps, { id: pending.id, digest });
      render(res, 409, { report: present(report), fileName: pending.fileName, importId: pending.id, planChanged: true });
      return;
    }
    render(res, report.valid ? 200 : 422, { report: present(report), fileName: pending.fileName });
  });

  return router;
}

/** Adds what the template needs to decide what to show. */
function present(report: ImportReport) {
  const { products } = report.summary;
  return {
    ...report,
    hasChanges: products.create + products.update > 0,
    collectionsList: report.summary.collectionsToCreate.join(", "),
  };
}
