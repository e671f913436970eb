import type { RequestHandler } from "express";
import helmet from "helmet";

/**
 * Security headers. The CSP allows only our own scripts, styles, images and
 * fonts. Templates contain no inline scripts, styles or handlers, so neither
 * 'unsafe-inline' nor a nonce is needed: the inline JSON-LD and JSON blocks
 * are data blocks (`type="application/ld+json"`, `application/json`), which
 * browsers never execute and CSP does not govern. Without a per-request nonce
 * a cached public page is the same bytes for everyone (src/pages).
 */
export function securityHeaders(): RequestHandler {
  const helmetMiddleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        // Live-show replays are video files the shop hosts elsewhere (a CDN, a bucket).
        mediaSrc: ["'self'", "https:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: "strict-origin-when-cross-origin" },
  });
  // Every header above is the same for every request: work them out once
  // (helmet's twelve middlewares per request cost more than the cached page).
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void set.push([name, String(value)]),
    removeHeader: (name: string) => void removed.push(name),
  };
  let ran = false;
  (helmetMiddleware as unknown as (req: object, res: object, next: (err?: unknown) => void) => void)({ headers: {} }, recorder, (err) => {
    if (err) throw err;
    ran = true;
  });
  if (!ran || set.length === 0) throw new Error("security headers: helmet did not run synchronously");
  return (_req, res, next) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}
