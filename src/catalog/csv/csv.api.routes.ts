import express, { Router, type RequestHandler } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { validate } from "../../http/validate.js";
import { publicBaseFor } from "../../http/urls.js";
import { cancelCatalogImport, createCatalogImport, describeCatalogImport, forgetCatalogImport, isSmallCsv, runImportNow, type CatalogImportView } from "./csv-import.service.js";
import { sendCatalogCsv } from "./csv.routes.js";
import { ImportApiQuery, ImportIdParams, ImportStatusQuery, MAX_CSV_BYTES, type ImportReport } from "./csv.schema.js";

const CSV_TYPES = ["text/csv", "application/csv", "text/plain"];

/**
 * The CSV body of this one route, as raw bytes. Not express.text(): that
 * decodes with the declared charset and silently replaces bytes that are not
 * UTF-8, and the import must name the line and column of each such byte.
 */
function csvBody(): RequestHandler {
  const raw = express.raw({ type: CSV_TYPES, limit: MAX_CSV_BYTES });
  return (req, res, next) => {
    if (!req.is(CSV_TYPES)) {
      throw new AppError("unsupported_media_type", 415, "Send the CSV file as the request body with the header Content-Type: text/csv.");
    }
    const charset = /charset=["']?([^;"'\s]+)/i.exec(req.get("content-type") ?? "")?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      throw new AppError("unsupported_encoding", 415, `The file must be UTF-8 (charset=utf-8), not ${charset}. Save it as "CSV UTF-8" and send it again.`);
    }
    raw(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === "entity.too.large") {
        next(new AppError("payload_too_large", 413, `The CSV file may be at most ${MAX_CSV_BYTES / 1024 / 1024} MB. Split it into smaller files by product.`));
        return;
      }
      next(err);
    });
  };
}

/** /api/v1/products/import, /api/v1/products/imports/:id and /api/v1/products/export.csv (Bearer token). Mounted before the product routes. */
export function csvApiRoutes(deps: Deps) {
  const router = Router();

  router.get("/products/export.csv", async (_req, res) => {
    await sendCatalogCsv(deps, res);
  });

  /**
   * A small file (at most SYNC_MAX_LINES lines) is answered as it always
   * was: the report, 200 (applied if dryRun=false) or 422. A larger one
   * becomes a background job: 202 with the import's id and status URL.
   */
  router.post("/products/import", validate({ query: ImportApiQuery }), csvBody(), async (req, res) => {
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const actor = { type: "api" as const, id: (res.locals.apiToken as { id: string }).id };
    const inline = isSmallCsv(bytes);
    const mode = req.valid.query.dryRun ? "check" : "apply";
    const created = await createCatalogImport(deps, { bytes, fileName: "api.csv", actor, mode, inline });
    const statusUrl = `${publicBaseFor(req, deps.shop.publicUrl)}/api/v1/products/imports/${created.id}`;
    if (!inline) {
      res.status(202).location(statusUrl).json({ data: { id: created.id, status: "queued", dryRun: mode === "check", statusUrl } });
      return;
    }
    await runImportNow(deps, created);
    const view = await describeCatalogImport(deps, { id: created.id });
    // A refused file is refused whole: not even the import's record is kept (the answer says it all).
    const refuse = async (err: AppError) => {
      await forgetCatalogImport(deps, { id: created.id });
      return err;
    };
    if (view.error?.code === "changed" && view.report) {
      // Only a change made between checking and writing gets here: nothing was kept.
      throw await refuse(invalidFile({ ...view.report, valid: false, applied: false, problems: [{ line: view.error.line ?? 1, column: view.error.column, message: view.error.message }] }));
    }
    if (view.status === "failed" || view.status === "rolled_back" || !view.report) throw new AppError("import_failed", 500, "The import could not be completed; nothing was written.");
    if (!view.report.valid) throw await refuse(invalidFile(view.report));
    const { productsCursor: _cursor, ...report } = view.report;
    res.json({ data: { ...report, importId: created.id } });
  });

  router.get("/products/imports/:id", validate({ params: ImportIdParams, query: ImportStatusQuery }), async (req, res) => {
    res.json({ data: apiView(await describeCatalogImport(deps, { id: req.valid.params.id, productsAfter: req.valid.query.productsAfter })) });
  });

  router.post("/products/imports/:id/cancel", validate({ params: ImportIdParams }), async (req, res) => {
    await describeCatalogImport(deps, { id: req.valid.params.id });
    await cancelCatalogImport(deps, { id: req.valid.params.id });
    res.status(202).json({ data: apiView(await describeCatalogImport(deps, { id: req.valid.params.id })) });
  });

  return router;
}

/** The status answer: progress while it runs, the report once checked, why it stopped when it did. */
function apiView(view: CatalogImportView) {
  const { digest: _digest, awaitsConfirmation: _waits, confirmBy: _by, fileKept: _kept, actor: _actor, ...rest } = view;
  return rest;
}

/** 422 listing every problem as {line, column, message}. */
function invalidFile(report: ImportReport): AppError {
  const first = report.problems[0];
  const where = first ? ` First: line ${first.line}${first.column ? `, column ${first.column}` : ""}: ${first.message}` : "";
  const count = report.problems.length;
  return new AppError("import_invalid", 422, `The file has ${count} ${count === 1 ? "problem" : "problems"}; nothing was written.${where}`, report.problems);
}
