import type { Request, RequestHandler, Response } from "express";
import compression from "compression";

/**
 * gzip or brotli (whichever the browser prefers; brotli on a tie) for the
 * text the shop sends: HTML, CSS, JavaScript, JSON, XML (feeds, sitemaps),
 * CSV (feeds, exports) and SVG. Images and fonts are already compressed.
 * Streamed responses (the feeds) stay streamed: the compressor passes each
 * chunk on as it fills and honours back-pressure. A response that must reach
 * the browser byte by byte as it is written (Server-Sent Events) sets
 * `Cache-Control: no-transform`, which this skips.
 */
const TEXT = /^(text\/(html|css|javascript|csv|plain|xml)|application\/(json|javascript|xml|rss\+xml|atom\+xml|ld\+json|manifest\+json)|image\/svg\+xml)\b/i;

function isText(_req: Request, res: Response): boolean {
  return TEXT.test(String(res.getHeader("Content-Type") ?? ""));
}

export function compressResponses(): RequestHandler {
  // Brotli quality 4 (the package's default) compresses better than gzip -6
  // at a similar CPU cost; 11 would cost ~20× the CPU per page.
  return compression({ filter: isText, threshold: 1024 });
}
