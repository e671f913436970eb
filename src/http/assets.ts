import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Router, type Request, type Response } from "express";
import { STATIC_DIR } from "../package-root.js";

/**
 * Static assets under content-hashed names.
 *
 * Pages link `/assets/css/shop.3f2a9c1b.css` (through the `asset` view
 * helper), which never changes meaning, so browsers and CDNs keep it for a
 * year without asking again; a new release links new names. The plain name
 * (`/assets/css/shop.css`) stays available with a short lifetime for
 * embeds and anyone who linked it by hand. Stylesheets are rewritten so their
 * `url(...)` references point at hashed names too. The files are small
 * (about 100 KB together) and are read once into memory at start-up.
 */

/** A year: the longest lifetime caches honour; immutable skips revalidation on reload. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Plain names can change with any release: short, then revalidate by ETag. */
const SHORT = "public, max-age=300";

interface Asset {
  /** Path under /assets with the content hash, e.g. "css/shop.3f2a9c1b.css". */
  hashed: string;
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
};

const require = createRequire(import.meta.url);

/**
 * Files served under /assets that do not live in views/static: the Persian
 * font comes from the vazirmatn package, in its "Non-Latin" cut (48 KB
 * instead of 111 KB): its @font-face is limited to Arabic-script code points,
 * so the Latin glyphs of the full font were never used.
 */
const EXTERNAL: Record<string, string> = {
  "fonts/vazirmatn.woff2": "vazirmatn/misc/Non-Latin/fonts/webfonts/Vazirmatn-NL[wght].woff2",
};

export interface AssetManifest {
  /** "css/shop.css" → "css/shop.3f2a9c1b.css"; throws for a file that does not exist. */
  hashedPath(logical: string): string;
  lookup(requestPath: string): { asset: Asset; immutable: boolean } | undefined;
  entries(): [string, Asset][];
}

function walk(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function hashedName(logical: string, body: Buffer): string {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 8);
  const ext = path.posix.extname(logical);
  return `${logical.slice(0, -ext.length)}.${hash}${ext}`;
}

export function buildAssetManifest(staticDir = STATIC_DIR): AssetManifest {
  const sources = new Map<string, Buffer>();
  for (const logical of walk(staticDir)) sources.set(logical, readFileSync(path.join(staticDir, logical)));
  for (const [logical, spec] of Object.entries(EXTERNAL)) sources.set(logical, readFileSync(require.resolve(spec)));

  const assets = new Map<string, Asset>();
  const add = (logical: string, body: Buffer) => {
    const ext = path.posix.extname(logical);
    const hashed = hashedName(logical, body);
    assets.set(logical, { hashed, body, type: TYPES[ext] ?? "application/octet-stream", etag: `"${hashed.split(".").at(-2)}"` });
  };
  // Everything a stylesheet can point at first, then the stylesheets, whose
  // hash then covers the names they reference.
  for (const [logical, body] of sources) if (!logical.endsWith(".css")) add(logical, body);
  for (const [logical, body] of sources) {
    if (!logical.endsWith(".css")) continue;
    const dir = path.posix.dirname(logical);
    const css = body.toString("utf8").replace(/url\((["']?)([^"')]+)\1\)/g, (whole, quote: string, ref: string) => {
      if (/^(data:|https?:|\/\/|#)/.test(ref)) return whole;
      const target = assets.get(path.posix.normalize(path.posix.join(dir, ref)));
      if (!target) return whole;
      return `url(${quote}${path.posix.relative(dir, target.hashed)}${quote})`;
    });
    add(logical, Buffer.from(css, "utf8"));
  }

  const byHashed = new Map([...assets.values()].map((a) => [a.hashed, a]));
  return {
    hashedPath(logical) {
      const asset = assets.get(logical);
      if (!asset) throw new Error(`asset: no file views/static/${logical}`);
      return asset.hashed;
    },
    lookup(requestPath) {
      const exact = byHashed.get(requestPath);
      if (exact) return { asset: exact, immutable: true };
      const plain = assets.get(requestPath);
      if (plain) return { asset: plain, immutable: false };
      // A hash from an earlier release (a page cached during a deploy): the
      // current file, but not promised forever under that name.
      const older = /^(.*)\.[0-9a-f]{8}(\.[a-z0-9]+)$/.exec(requestPath);
      const current = older ? assets.get(`${older[1]}${older[2]}`) : undefined;
      return current ? { asset: current, immutable: false } : undefined;
    },
    entries: () => [...assets.entries()],
  };
}

let shared: AssetManifest | undefined;
/** The package's own assets, hashed once per process. */
export function assetManifest(): AssetManifest {
  return (shared ??= buildAssetManifest());
}

/** GET /assets/… from the manifest; unknown names fall through to the 404 page. */
export function assetRoutes(manifest: AssetManifest = assetManifest()) {
  const router = Router();
  router.get(/^\/(.+)$/, (req: Request, res: Response, next) => {
    let requested: string;
    try {
      requested = decodeURIComponent(req.path.slice(1));
    } catch {
      return next();
    }
    const found = manifest.lookup(requested);
    if (!found) return next();
    const { asset, immutable } = found;
    res.setHeader("Content-Type", asset.type);
    res.setHeader("Cache-Control", immutable ? IMMUTABLE : SHORT);
    res.setHeader("ETag", asset.etag);
    if (req.fresh) return res.status(304).end();
    res.send(asset.body);
  });
  return router;
}
