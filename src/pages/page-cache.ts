/**
 * Caching of the pages social traffic lands on (product, post, post card,
 * gallery, a live show) for anonymous visitors: the ones with none of the cookies that
 * make a page personal (cart, admin or follower session, CSRF token, review
 * votes, live-show viewer). See src/pages/README.md.
 *
 * - Shared caches (a CDN in front of the shop) may keep such a page for
 *   `maxAgeSeconds` and serve it stale for `staleSeconds` more while they
 *   refetch; it carries an ETag (304 on If-None-Match) and Vary:
 *   Accept-Encoding, Cookie (the language may come from the bz_lang cookie).
 *   The page then holds nothing per-visitor: no CSRF token (the forms get it
 *   from GET /session.json, see views/static/js/shop.js), no CSP nonce (the
 *   CSP needs none, see src/http/security.ts) and no cookie is set.
 * - In this process, rendered HTML is kept for `ttlMs` under a key made of
 *   the address, the language, the public base URL and the page's version
 *   read from the database (./page-versions.ts), so a burst of requests costs
 *   about one render per `ttlMs` while a price, stock, rating or tag change
 *   shows on the next request, on every instance. Concurrent misses for one
 *   key wait for a single render; requests that arrive together share one
 *   version read. A hit is a Buffer sent as it is, or its brotli or gzip
 *   copy, compressed once per version.
 * - Personal requests are rendered as before and marked private.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Request, RequestHandler, Response } from "express";
import { recordEvent } from "../analytics/events.js";
import type { AnalyticsEventInput } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { isLocale, type Locale } from "../i18n/translate.js";
import { readPageVersion, type PageKind } from "./page-versions.js";

const brotliCompress = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

export interface PageCacheOptions {
  /** How long this process reuses a rendered page whose version has not changed. */
  ttlMs: number;
  /** Cache-Control max-age for shared caches and browsers. */
  maxAgeSeconds: number;
  /** Cache-Control stale-while-revalidate. */
  staleSeconds: number;
  /** Rendered pages kept at most (oldest dropped first). */
  maxEntries: number;
}

export const PAGE_CACHE_DEFAULTS: PageCacheOptions = { ttlMs: 1000, maxAgeSeconds: 10, staleSeconds: 30, maxEntries: 300 };

/** Cookies that make a page personal: whoever sends one gets a page rendered for them. */
const PERSONAL_COOKIES = ["bz_cart", "bz_admin", "bz_follower", "bz_csrf", "bz_voter", "bz_live"];
const PERSONAL = new RegExp(`(?:^|;\\s*)(?:${PERSONAL_COOKIES.join("|")})=`);

const ROUTES: { pattern: RegExp; kind: PageKind }[] = [
  { pattern: /^\/p\/([^/]+)\/?$/, kind: "product" },
  { pattern: /^\/posts\/([^/]+)(?:\/card)?\/?$/, kind: "post" },
  { pattern: /^\/gallery\/?$/, kind: "gallery" },
  { pattern: /^\/live\/([^/]+)\/?$/, kind: "live" },
];

interface Entry {
  /** The page, the same bytes for every anonymous visitor (no nonce, no token). */
  body: Buffer;
  etag: string;
  at: number;
  /** The analytics event the page records per view (a hit records it too). */
  event: AnalyticsEventInput | null;
  /** The body compressed once per encoding, when a browser first asks for it. */
  encoded: Partial<Record<Encoding, Promise<Buffer>>>;
}

type Encoding = "br" | "gzip";

/** What the compression middleware would send (src/http/compression.ts): brotli on a tie, nothing under 1 KiB. */
const COMPRESS_MIN_BYTES = 1024;

/** Accept-Encoding as name → q (a missing q is 1; a bad one counts as 0). */
function acceptedEncodings(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const item of header.split(",")) {
    const [name, ...params] = item.split(";");
    const coding = name!.trim().toLowerCase();
    if (!coding) continue;
    let weight = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key!.trim().toLowerCase() === "q") {
        const n = Number(value?.trim());
        weight = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      }
    }
    q.set(coding, weight);
  }
  return q;
}

function encode(body: Buffer, encoding: Encoding): Promise<Buffer> {
  // Once per page and version, off the event loop: so a better ratio than the
  // per-response middleware's (brotli 4, gzip 6) is worth its CPU.
  return encoding === "br"
    ? brotliCompress(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } })
    : gzip(body, { level: 9 });
}

export function isPersonal(req: Request): boolean {
  const cookie = req.headers.cookie;
  return typeof cookie === "string" && PERSONAL.test(cookie);
}

export interface PageCache {
  middleware: RequestHandler;
  /** Pages rendered, served from memory, and version reads since start (tests, benchmarks). */
  stats: { renders: number; hits: number; versionReads: number };
}

const COOKIE_PATTERNS = new Map<string, RegExp>();

/** One cookie's value from the raw header (the cookie parser runs later). */
function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  let pattern = COOKIE_PATTERNS.get(name);
  if (!pattern) COOKIE_PATTERNS.set(name, (pattern = new RegExp(`(?:^|;\\s*)${name}=([^;]*)`)));
  const match = pattern.exec(header);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!.trim());
  } catch {
    return undefined;
  }
}

export function createPageCache(deps: Deps, options: PageCacheOptions | false, defaultLocale: Locale, compress: boolean): PageCache {
  const stats = { renders: 0, hits: 0, versionReads: 0 };
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<Entry | null>>();
  const settings = options || PAGE_CACHE_DEFAULTS;
  const publicControl = `public, max-age=${settings.maxAgeSeconds}, stale-while-revalidate=${settings.staleSeconds}`;

  const store = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > settings.maxEntries) entries.delete(entries.keys().next().value!);
  };

  // Requests for one page that arrive before its version is read share that
  // read: each answer still reflects the database as it was after its request
  // came in, but a burst costs one read per turn of the event loop, not one
  // per request.
  const nextReads = new Map<string, Promise<string | null>>();
  const versionOf = (kind: PageKind, id: string): Promise<string | null> => {
    const key = `${kind}\n${id}`;
    let read = nextReads.get(key);
    if (!read) {
      read = new Promise<string | null>((resolve, reject) => {
        setImmediate(() => {
          nextReads.delete(key);
          stats.versionReads++;
          readPageVersion(deps, kind, id).then(resolve, reject);
        });
      });
      nextReads.set(key, read);
    }
    return read;
  };

  const encodingFor = (req: Request): Encoding | null => {
    const accepted = req.headers["accept-encoding"];
    if (!compress || !accepted) return null;
    const q = acceptedEncodings(accepted);
    const br = q.get("br") ?? q.get("*") ?? 0;
    const gz = q.get("gzip") ?? q.get("*") ?? 0;
    if (br > 0 && br >= gz) return "br";
    return gz > 0 ? "gzip" : null;
  };

  const serve = async (req: Request, res: Response, entry: Entry) => {
    stats.hits++;
    if (entry.event) {
      // The cookie parser has not run yet: the event writer reads only the attribution cookie.
      const attribution = cookieValue(req, "bz_attr");
      recordEvent(deps, entry.event, { method: req.method, get: req.get.bind(req) as Request["get"], ip: req.ip, query: req.query, cookies: attribution ? { bz_attr: attribution } : {} });
    }
    res.setHeader("ETag", entry.etag);
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    if (compress && entry.body.length >= COMPRESS_MIN_BYTES) res.vary("Accept-Encoding");
    if (req.fresh) {
      res.statusCode = 304;
      res.end();
      return;
    }
    let body = entry.body;
    const encoding = entry.body.length >= COMPRESS_MIN_BYTES ? encodingFor(req) : null;
    if (encoding) {
      body = await (entry.encoded[encoding] ??= encode(entry.body, encoding));
      res.setHeader("Content-Encoding", encoding);
    }
    res.setHeader("Content-Length", body.length);
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };

  // Mounted early (before compression, the cookie parser, body parsers,
  // language and shop settings middleware): an answer from memory needs none
  // of them, and brings its own compressed bytes.
  const middleware: RequestHandler = async (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const route = ROUTES.find((r) => r.pattern.test(req.path));
    if (!route) return next();
    res.vary("Cookie");
    if (isPersonal(req)) {
      res.set("Cache-Control", "private, no-cache");
      return next();
    }
    // No CSRF cookie and token, no cart count: see csrfProtection and shop.js.
    res.locals.publicPage = true;
    // The language as localeMiddleware will pick it; a ?lang= it will remember
    // in a cookie makes this answer one browser's own.
    const remembered = cookieValue(req, "bz_lang");
    const asked = req.query.lang;
    const locale = isLocale(asked) ? asked : isLocale(remembered) ? remembered : defaultLocale;
    const setsCookie = isLocale(asked) && asked !== remembered;
    res.set("Cache-Control", setsCookie ? "private, no-cache" : publicControl);
    if (!options) return next();
    const id = decodeURIComponent(route.pattern.exec(req.path)![1] ?? "");
    const version = await versionOf(route.kind, id);
    if (version === null) return next();
    const key = [req.baseUrl, req.url, locale, res.locals.publicBase, version].join("\n");
    const now = Date.now();
    const cached = entries.get(key);
    if (cached && now - cached.at < settings.ttlMs) return serve(req, res, cached);
    const waiting = pending.get(key);
    if (waiting) {
      const entry = await waiting;
      if (entry) return serve(req, res, entry);
      return next();
    }

    // Render through the route as usual, keeping what it renders.
    let settle!: (entry: Entry | null) => void;
    pending.set(
      key,
      new Promise<Entry | null>((resolve) => {
        settle = resolve;
      }),
    );
    let settled = false;
    const done = (entry: Entry | null) => {
      if (settled) return;
      settled = true;
      pending.delete(key);
      settle(entry);
    };
    res.once("close", () => done(null));
    const render = res.render.bind(res) as (view: string, opts?: object, cb?: (err: Error | null, html?: string) => void) => void;
    const event = { current: null as AnalyticsEventInput | null };
    res.locals.pageCacheEvent = event;
    res.render = ((view: string, opts?: object) => {
      render(view, opts, (err, html) => {
        if (err) {
          done(null);
          return next(err);
        }
        stats.renders++;
        const body = Buffer.from(html!);
        const entry: Entry = { body, etag: `W/"${createHash("sha1").update(body).digest("base64url")}"`, at: Date.now(), event: event.current, encoded: {} };
        if (res.statusCode === 200) {
          store(key, entry);
          done(entry);
        } else done(null);
        res.set("ETag", entry.etag);
        res.type("html");
        if (res.statusCode === 200 && req.fresh) res.status(304).end();
        else res.send(html);
      });
    }) as typeof res.render;
    next();
  };

  return { middleware, stats };
}

/**
 * Records a page's analytics event, and remembers it so views served from
 * the page cache are counted as well.
 */
export function recordPageEvent(deps: Deps, req: Request, res: Response, event: AnalyticsEventInput) {
  const slot = res.locals.pageCacheEvent as { current: AnalyticsEventInput | null } | undefined;
  if (slot) slot.current = event;
  recordEvent(deps, event, req);
}
