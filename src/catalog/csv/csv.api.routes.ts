import express, { Router, type RequestHandler } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { validate } from "../../http/validate.js";
import { applyCatalogImport, previewCatalogImport } from "./csv-import.service.js";
import { sendCatalogCsv } from "./csv.routes.js";
import { ImportApiQuery, MAX_CSV_BYTES, type ImportReport } from "./csv.schema.js";

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

/** /api/v1/products/import and /api/v1/products/export.csv (Bearer token). Mounted before the product routes. */
export function csvApiRoutes(deps: Deps) {
  const router = Router();

  router.get("/products/export.csv", async (_req, res) => {
    await sendCatalogCsv(deps, res);
  });

  router.post("/products/import", validate({ query: ImportApiQuery }), csvBody(), async (req, res) => {
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const actor = { type: "api" as const, id: (res.locals.apiToken as { id: string }).id };
    const { digest: _digest, ...result } = req.valid.query.dryRun
      ? await previewCatalogImport(deps, { bytes })
      : await applyCatalogImport(deps, { bytes, actor }).then(({ planChanged: _changed, ...r }) => r);
    if (!result.valid) throw invalidFile(result);
    res.json({ data: result });
  });

  return router;
}

/** 422 listing every problem as {line, column, message}. */
function invalidFile(report: ImportReport): AppError {
  const first = report.problems[0];
  const where = first ? ` First: line ${first.line}${first.column ? `, column ${first.column}` : ""}: ${first.message}` : "";
  const count = report.problems.length;
  return new AppError("import_invalid", 422, `The file has ${count} ${count === 1 ? "problem" : "problems"}; nothing was written.${where}`, report.problems);
}
