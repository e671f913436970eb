import type { RequestHandler } from "express";
import { isUtf8 } from "node:buffer";
import type Multer from "multer";
import { lazyModule } from "../lazy.js";
import { AppError } from "./errors.js";
import { assertWellFormed, illFormedError } from "./well-formed.js";

// Loaded on the first upload: most requests never carry a file.
const multer = lazyModule<typeof Multer>("multer");

export interface UploadLimits {
  /** Form field names that may carry files, with how many each. */
  fields: { name: string; maxCount: number }[];
  maxFileBytes: number;
}

/**
 * Parses a multipart form into memory (files as Buffers on req.files).
 * Limits answer with a 4xx naming the field. The CSRF token of a multipart
 * form travels in its action URL (`?_csrf=`) and was checked before this runs.
 */
export function multipartForm(limits: UploadLimits): RequestHandler {
  let parse: RequestHandler | undefined;
  return (req, res, next) => {
    parse ??= multer()({
      storage: multer().memoryStorage(),
      // Field values arrive as Latin-1 (one character per byte) and are decoded
      // as UTF-8 below, strictly: busboy would turn bad bytes into U+FFFD.
      // (multer 2 passes defCharset on to busboy; its types do not list it.)
      defCharset: "latin1",
      limits: { fileSize: limits.maxFileBytes, files: limits.fields.reduce((n, f) => n + f.maxCount, 0), fields: 2000, fieldSize: 1024 * 1024 },
    } as Multer.Options).fields(limits.fields);
    parse(req, res, (err: unknown) => {
      if (err) return next(toUploadError(err, limits));
      try {
        req.body = utf8Fields(req.body, []);
        assertWellFormed("body", req.body);
      } catch (e) {
        return next(e);
      }
      next();
    });
  };
}

/** Multipart field values (Latin-1 strings, one character per byte) decoded as UTF-8; a field that is not UTF-8 is a 400 naming it. */
function utf8Fields(value: unknown, path: string[]): unknown {
  if (typeof value === "string") {
    // A part that declared its own charset was decoded by busboy already.
    if (/[^\u0000-\u00ff]/.test(value)) return value;
    const bytes = Buffer.from(value, "latin1");
    if (!isUtf8(bytes)) throw illFormedError("body", path.join(".") || "(field)");
    return bytes.toString("utf8");
  }
  if (Array.isArray(value)) return value.map((v, i) => utf8Fields(v, [...path, String(i)]));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, utf8Fields(v, [...path, k])]));
  }
  return value;
}

function toUploadError(err: unknown, limits: UploadLimits): AppError {
  if (err instanceof multer().MulterError) {
    const field = err.field ?? "file";
    switch (err.code) {
      case "LIMIT_FILE_SIZE":
        return new AppError("payload_too_large", 413, `${field}: a file may be at most ${Math.round(limits.maxFileBytes / 1024 / 1024)} MB.`, [{ field, message: "file too large" }]);
      case "LIMIT_FILE_COUNT":
      case "LIMIT_UNEXPECTED_FILE":
        return AppError.validation(`${field}: too many files, or files in a field that takes none.`, [{ field, message: "unexpected file" }]);
      default:
        return AppError.validation(`${field}: ${err.message}.`, [{ field, message: err.message }]);
    }
  }
  return AppError.badRequest("The upload could not be read; try again.");
}

/** The uploaded files of one field (possibly none). */
export function filesOf(req: { files?: unknown }, field: string): Express.Multer.File[] {
  const files = req.files as Record<string, Express.Multer.File[]> | undefined;
  return files?.[field] ?? [];
}
