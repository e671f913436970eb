import { Router, type Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { filesOf, multipartForm } from "../../http/uploads.js";
import { urlFor } from "../../http/urls.js";
import { validate } from "../../http/validate.js";
import { streamCatalogCsv } from "./csv-export.service.js";
import {
  cancelCatalogImport,
  confirmCatalogImport,
  CONFIRM_TTL_MS,
  createCatalogImport,
  describeCatalogImport,
  isSmallCsv,
  listCatalogImports,
  MAX_PRODUCTS_LISTED,
  recheckCatalogImport,
  runImportNow,
  SYNC_MAX_LINES,
  type CatalogImportView,
} from "./csv-import.service.js";
import { ApplyImportBody, ImportActionBody, ImportIdParams, MAX_CSV_BYTES, OUR_COLUMNS, OUR_REQUIRED_COLUMNS, UploadedCsv, UploadQuery, type ImportReport } from "./csv.schema.js";

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

/** While an import runs its page reloads itself this often without JavaScript (with it, it polls). */
const REFRESH_SECONDS = 3;
const RUNNING = ["queued", "reading", "planning", "applying", "publishing", "rolling_back"];

/**
 * /admin/products/import, /admin/products/import/:id and
 * /admin/products/export.csv (HTML, signed-in admin, CSRF-checked). Mounted
 * before the product pages so "import" is not read as a product id. Every
 * upload and apply answers with a redirect to the import's own page, which
 * shows its progress while it runs and its report when it is done.
 */
export function csvAdminRoutes(deps: Deps) {
  const router = Router();
  const upload = multipartForm({ fields: [{ name: "file", maxCount: 1 }], maxFileBytes: MAX_CSV_BYTES });
  const page = (id: string) => `/admin/products/import/${id}`;

  router.get("/export.csv", async (_req, res) => {
    await sendCatalogCsv(deps, res);
  });

  router.get("/import", async (_req, res) => {
    res.render("admin/products-import", {
      layout: "admin",
      title: res.locals.t("csv.title"),
      nav: "products",
      maxMb: MAX_CSV_BYTES / 1024 / 1024,
      syncLines: SYNC_MAX_LINES,
      columns: OUR_COLUMNS,
      required: OUR_REQUIRED_COLUMNS.join(", "),
      imports: await listCatalogImports(deps, { limit: 10 }),
    });
  });

  router.post("/import", upload, validate({ query: UploadQuery }), async (req, res) => {
    const file = UploadedCsv.safeParse(filesOf(req, "file")[0]);
    if (!file.success) throw AppError.validation("file: choose a CSV file to check.", [{ field: "file", message: "no file" }]);
    const inline = isSmallCsv(file.data.buffer);
    const created = await createCatalogImport(deps, {
      bytes: file.data.buffer,
      fileName: file.data.originalname || "products.csv",
      actor: { type: "admin", id: res.locals.admin.id },
      mode: "check",
      inline,
    });
    if (inline) await runImportNow(deps, created);
    res.redirect(303, urlFor(req, page(created.id)));
  });

  router.post("/import/apply", validate({ body: ApplyImportBody }), async (req, res) => {
    const { importId, digest } = req.valid.body;
    const current = await describeCatalogImport(deps, { id: importId }).catch(() => null);
    const inline = !!current && current.progress.rowsRead <= SYNC_MAX_LINES;
    const confirmed = await confirmCatalogImport(deps, { id: importId, adminId: res.locals.admin.id, digest, inline });
    if (inline) await runImportNow(deps, { id: importId, owner: confirmed.owner });
    res.redirect(303, urlFor(req, page(importId)));
  });

  router.post("/import/cancel", validate({ body: ImportActionBody }), async (req, res) => {
    await describeCatalogImport(deps, { id: req.valid.body.importId });
    await cancelCatalogImport(deps, { id: req.valid.body.importId });
    res.redirect(303, urlFor(req, page(req.valid.body.importId)));
  });

  router.post("/import/recheck", validate({ body: ImportActionBody }), async (req, res) => {
    const id = await recheckCatalogImport(deps, { id: req.valid.body.importId, adminId: res.locals.admin.id });
    res.redirect(303, urlFor(req, page(id)));
  });

  router.get("/import/:id/progress", validate({ params: ImportIdParams }), async (req, res) => {
    const view = await describeCatalogImport(deps, { id: req.valid.params.id });
    res.set("Cache-Control", "no-store").json({ data: { id: view.id, status: view.status, progress: view.progress } });
  });

  router.get("/import/:id", validate({ params: ImportIdParams }), async (req, res) => {
    const view = await describeCatalogImport(deps, { id: req.valid.params.id });
    const running = RUNNING.includes(view.status);
    const mine = view.actor.type === "admin" && view.actor.id === res.locals.admin.id;
    res.set("Cache-Control", "no-store").render("admin/products-import-status", {
      layout: "admin",
      title: res.locals.t("csv.status.title", { file: view.fileName }),
      nav: "products",
      refreshSeconds: running ? REFRESH_SECONDS : undefined,
      view,
      running,
      phaseKey: `csv.phase.${view.progress.phase}`,
      percent: view.progress.total > 0 ? Math.min(100, Math.floor((view.progress.done / view.progress.total) * 100)) : null,
      report: view.report ? present(view.report) : null,
      canApply: mine && view.awaitsConfirmation && !!view.report && view.report.summary.products.create + view.report.summary.products.update > 0,
      canRecheck: mine && view.fileKept,
      changed: view.error?.code === "changed",
      ttlMinutes: CONFIRM_TTL_MS / 60_000,
      productsListed: MAX_PRODUCTS_LISTED,
      // A long product list starts folded, so progress and problems come first.
      manyProducts: !!view.report && view.report.products.length > 50,
    });
  });

  return router;
}

/** Adds what the template needs to decide what to show. */
function present(report: ImportReport & { productsCursor: number | null }) {
  const { products } = report.summary;
  return {
    ...report,
    hasChanges: products.create + products.update > 0,
    collectionsList: report.summary.collectionsToCreate.join(", "),
    productsMore: report.productsCursor !== null,
    productsCount: products.create + products.update + products.unchanged,
  };
}

export type { CatalogImportView };
