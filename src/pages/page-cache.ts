/**
 * Caching of the pages social traffic lands on (product, post, post card,
 * gallery) for anonymous visitors: the ones with none of the cookies that
 * make a page personal (cart, admin or follower session, CSRF token, review
 * votes, live-show viewer). See src/pages/README.md.
 *
 * - Shared caches (a CDN in front of the shop) may keep such a page for
 *   `maxAgeSeconds` and serve it stale for `staleSeconds` more while they
 *   refetch; it carries an ETag (304 on If-None-Match) and Vary:
 *   Accept-Encoding, Cookie (the language may come from the bz_lang cookie).
 *   The page then holds nothing per-visitor: no CSRF token (the forms get it
 *   from GET /session.json, see views/static/js/shop.js) and no cookie is set.
 * - In this process, rendered HTML is kept for `ttlMs` under a key made of
 *   the address, the language, the public base URL and the page's version
 *   read from the database (./page-versions.ts), so a burst of requests costs
 *   about one render per `ttlMs` while a price, stock, rating or tag change
 *   shows on the next request, on every instance. Concurrent misses for one
 *   key wait for a single render.
 * - Personal requests are rendered as before and marked private.
 */
import { createHash } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import Handlebars from "handlebars";
import { recordEvent } from "../analytics/events.js";
import type { AnalyticsEventInput } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { isLocale, type Locale } from "../i18n/translate.js";
import { readPageVersion, type PageKind } from "./page-versions.js";

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
];

interface Entry {
  /**
   * The HTML split around the CSP nonce it was rendered with (odd items mark
   * where it was: "raw" or "escaped" as in an attribute), so each copy
   * carries its own request's nonce, the one its CSP header allows.
   */
  parts: string[];
  etag: string;
  contentType: string;
  at: number;
  /** The analytics event the page records per view (a hit records it too). */
  event: AnalyticsEventInput | null;
}

export function isPersonal(req: Request): boolean {
  const cookie = req.headers.cookie;
  return typeof cookie === "string" && PERSONAL.test(cookie);
}

export interface PageCache {
  middleware: RequestHandler;
  /** Pages rendered and served from memory since start (tests, benchmarks). */
  stats: { renders: number; hits: number };
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

export function createPageCache(deps: Deps, options: PageCacheOptions | false, defaultLocale: Locale): PageCache {
  const stats = { renders: 0, hits: 0 };
  const entries = new Map<string, Entry>();
  const pending = new Map<string, Promise<Entry | null>>();
  const settings = options || PAGE_CACHE_DEFAULTS;
  const publicControl = `public, max-age=${settings.maxAgeSeconds}, stale-while-revalidate=${settings.staleSeconds}`;

  const store = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > settings.maxEntries) entries.delete(entries.keys().next().value!);
  };

  const serve = (req: Request, res: Response, entry: Entry) => {
    stats.hits++;
    if (entry.event) {
      // The cookie parser has not run yet: the event writer reads only the attribution cookie.
      const attribution = cookieValue(req, "bz_attr");
      recordEvent(deps, entry.event, { method: req.method, get: req.get.bind(req) as Request["get"], ip: req.ip, query: req.query, cookies: attribution ? { bz_attr: attribution } : {} });
    }
    res.set("ETag", entry.etag);
    res.type(entry.contentType);
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.send(withNonce(entry.parts, res.locals.cspNonce as string));
  };

  // Mounted early (before the cookie parser, body parsers, language and shop
  // settings middleware): an answer from memory needs none of them.
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
    const version = await readPageVersion(deps, route.kind, id);
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
        const nonce = res.locals.cspNonce as string;
        const parts = splitNonce(html!, nonce);
        const entry: Entry = {
          parts,
          etag: `W/"${createHash("sha1").update(parts.filter((_, i) => i % 2 === 0).join("")).digest("base64url")}"`,
          contentType: "html",
          at: Date.now(),
          event: event.current,
        };
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

const regexpText = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function splitNonce(html: string, nonce: string | undefined): string[] {
  if (!nonce) return [html];
  const escaped = Handlebars.escapeExpression(nonce);
  return html.split(new RegExp(`(${regexpText(escaped)}|${regexpText(nonce)})`)).map((part, i) => (i % 2 === 0 ? part : part === nonce ? "raw" : "escaped"));
}

function withNonce(parts: string[], nonce: string): string {
  if (parts.length === 1) return parts[0]!;
  const escaped = Handlebars.escapeExpression(nonce);
  let html = "";
  for (let i = 0; i < parts.length; i++) html += i % 2 === 0 ? parts[i] : parts[i] === "raw" ? nonce : escaped;
  return html;
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
