import type { RequestHandler } from "express";
import type Multer from "multer";
import { lazyModule } from "../lazy.js";
import { AppError } from "./errors.js";

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
      limits: { fileSize: limits.maxFileBytes, files: limits.fields.reduce((n, f) => n + f.maxCount, 0), fields: 2000, fieldSize: 1024 * 1024 },
    }).fields(limits.fields);
    parse(req, res, (err: unknown) => {
      next(err ? toUploadError(err, limits) : undefined);
    });
  };
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
