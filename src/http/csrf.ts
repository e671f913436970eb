import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import { cookieOptions } from "./cookies.js";
import { AppError } from "./errors.js";

const COOKIE = "bz_csrf";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function tokenFor(secret: string, cookieValue: string) {
  return createHmac("sha256", secret).update(`csrf:${cookieValue}`).digest("base64url");
}

/**
 * Signed double-submit CSRF protection (OWASP): each browser gets a random
 * cookie; forms carry an HMAC of it in `_csrf` (or the X-CSRF-Token header for
 * fetch). A cross-site form can neither read the cookie nor forge the HMAC.
 * A request is exempt only when a valid API token authenticated it
 * (requireApiToken set res.locals.apiToken): such a request carries no
 * ambient credential. An Authorization header alone proves nothing — a
 * cookie-authenticated admin request with "Bearer x" added (by a same-site
 * page, a proxy or an extension) is still a cookie-authenticated request.
 * Signed webhooks are mounted before this and never reach it.
 */
export function csrfProtection(getSecret: () => string): RequestHandler {
  return (req, res, next) => {
    // A page anyone may be served from a shared cache carries no token and
    // sets no cookie; its forms fetch the token from GET /session.json.
    if (res.locals.publicPage === true && !UNSAFE.has(req.method)) {
      res.locals.csrfToken = "";
      return next();
    }
    let value = req.cookies?.[COOKIE] as string | undefined;
    const hadCookie = !!value && /^[A-Za-z0-9_-]{20,64}$/.test(value);
    if (!hadCookie) {
      value = randomBytes(24).toString("base64url");
      res.cookie(COOKIE, value, cookieOptions(req));
    }
    const expected = tokenFor(getSecret(), value!);
    res.locals.csrfToken = expected;
    if (!UNSAFE.has(req.method) || authenticatedByApiToken(res)) return next();
    // The first form a visitor sends from a cached public page (no JavaScript
    // to fetch /session.json) has no cookie and so no token. The browser's own
    // word that the form came from this site stands in for it then:
    // `Sec-Fetch-Site` and `Origin` are set by the browser, never by a page,
    // and a cross-site form carries the other site's. Without either, the
    // request fails the token check below as before.
    if (!hadCookie && sentFromThisSite(req)) return next();
    assertCsrf(req, expected);
    next();
  };
}

/**
 * The token comes from the body field `_csrf`, the X-CSRF-Token header, or —
 * for multipart forms, whose body is parsed later by the route — the `_csrf`
 * query parameter of the form's action URL. Checking here, before any route,
 * means no route can forget it (a route that ignores its body would otherwise
 * accept a cross-site multipart post). Referrer-Policy keeps the query string
 * from leaving the site, and the request log redacts it.
 */
function assertCsrf(req: Request, expected: string) {
  const fromQuery = req.is("multipart/form-data") ? req.query._csrf : undefined;
  const sent = fromQuery ?? (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get("x-csrf-token");
  if (typeof sent !== "string" || !safeEqual(sent, expected)) {
    throw AppError.forbidden("The form has expired or did not come from this shop. Reload the page and try again.", "csrf_invalid");
  }
}

function sentFromThisSite(req: Request) {
  const site = req.get("sec-fetch-site");
  if (site) return site === "same-origin";
  const origin = req.get("origin");
  return !!origin && origin !== "null" && origin === `${req.protocol}://${req.get("host")}`;
}

function authenticatedByApiToken(res: Response) {
  return typeof (res.locals.apiToken as { id?: unknown } | undefined)?.id === "string";
}

function safeEqual(a: string, b: string) {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
