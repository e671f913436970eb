import { createHash } from "node:crypto";
import type Sharp from "sharp";
import type { Metadata } from "sharp";
import { lazyModule } from "../lazy.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { IMAGE_WIDTHS, SQUARE_SIZE } from "./media.paths.js";

export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const MAX_PIXELS = 40_000_000;
const sharp = lazyModule<typeof Sharp>("sharp");
const ACCEPTED = new Set(["jpeg", "png", "webp", "gif", "avif", "heif", "tiff"]);

/**
 * Validates an uploaded or shipped image and re-encodes it: the original
 * bytes are never served. Re-encoding drops EXIF (GPS, camera serials) and
 * any payload hidden after the image data. Writes responsive WebP widths and
 * a square JPEG (feeds and link previews want 1:1 and at least 500 px).
 */
export async function storeImage(deps: Deps, input: { bytes: Buffer; alt?: string; field?: string }) {
  const field = input.field ?? "image";
  if (input.bytes.length === 0) throw AppError.validation(`${field}: the file is empty.`, [{ field, message: "empty file" }]);
  if (input.bytes.length > MAX_IMAGE_BYTES) {
    throw new AppError("payload_too_large", 413, `${field}: images may be at most ${MAX_IMAGE_BYTES / 1024 / 1024} MB.`, [{ field, message: "too large" }]);
  }
  let meta: Metadata;
  try {
    meta = await sharp()(input.bytes, { limitInputPixels: MAX_PIXELS }).metadata();
  } catch {
    throw AppError.validation(`${field}: this file is not an image we can read (use JPEG, PNG, WebP or AVIF).`, [{ field, message: "not an image" }]);
  }
  if (!meta.format || !ACCEPTED.has(meta.format) || !meta.width || !meta.height) {
    throw AppError.validation(`${field}: this file is not an image we can read (use JPEG, PNG, WebP or AVIF).`, [{ field, message: "not an image" }]);
  }
  const storageKey = createHash("sha256").update(input.bytes).digest("hex").slice(0, 32);
  const existing = await deps.db.media.findUnique({ where: { storageKey } });
  if (existing) return existing;

  // .rotate() applies the EXIF orientation before the metadata is dropped.
  const base = sharp()(input.bytes, { limitInputPixels: MAX_PIXELS }).rotate();
  const { width, height } = await base.clone().toBuffer({ resolveWithObject: true }).then((r) => r.info);
  let bytes = 0;
  for (const w of IMAGE_WIDTHS) {
    const out = await base.clone().resize({ width: w, withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
    bytes += out.length;
    await deps.files.put(`${storageKey}-${w}.webp`, out, "image/webp");
  }
  const square = await base
    .clone()
    .resize({ width: SQUARE_SIZE, height: SQUARE_SIZE, fit: "contain", background: { r: 255, g: 255, b: 255, alpha: 1 } })
    .flatten({ background: "#ffffff" })
    .jpeg({ quality: 84, mozjpeg: true })
    .toBuffer();
  await deps.files.put(`${storageKey}-sq.jpg`, square, "image/jpeg");
  bytes += square.length;
  return deps.db.media.create({
    data: { storageKey, mime: "image/webp", width, height, bytes, alt: (input.alt ?? "").slice(0, 300) },
  });
}
