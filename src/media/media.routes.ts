import { pipeline } from "node:stream/promises";
import { Router } from "express";
import type { FileStorage } from "./file-storage.js";

/**
 * Serves re-encoded images from the file storage (local directory or bucket).
 * Names are content hashes, so they never change: a year, immutable, and the
 * name itself is the ETag. Unknown names fall through to the 404 page.
 */
export function mediaRoutes(files: FileStorage) {
  const router = Router();
  router.get("/:key", async (req, res, next) => {
    const key = req.params.key;
    const etag = `"${key}"`;
    const headers = () => {
      res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
      res.setHeader("ETag", etag);
    };
    if (req.headers["if-none-match"] === etag) {
      headers();
      return res.status(304).end();
    }
    const file = await files.get(key);
    if (!file) return next();
    headers();
    res.setHeader("Content-Type", file.contentType);
    if (file.contentLength !== undefined) res.setHeader("Content-Length", String(file.contentLength));
    if (req.method === "HEAD") {
      file.body.destroy();
      return res.end();
    }
    try {
      await pipeline(file.body, res);
    } catch (err) {
      // The shopper went away mid-image: nothing to answer.
      if (!res.headersSent) throw err;
    }
  });
  return router;
}
