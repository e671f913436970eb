import type { RequestHandler } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { wantsJson } from "../http/wants-json.js";
import { authenticateApiToken, findAdminBySession } from "./auth.service.js";

export const SESSION_COOKIE = "bz_admin";

/** Loads the signed-in admin (if any) into res.locals.admin. */
export function loadAdmin(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    const token = req.cookies?.[SESSION_COOKIE];
    if (typeof token === "string" && token.length > 20) {
      const admin = await findAdminBySession(deps, token);
      if (admin) res.locals.admin = { id: admin.id, email: admin.email, name: admin.name };
    }
    next();
  };
}

/** Admin pages: browsers are sent to the login page, API clients get 401. */
export const requireAdmin: RequestHandler = (req, res, next) => {
  if (res.locals.admin) return next();
  if (wantsJson(req) || req.method !== "GET") throw AppError.unauthorized("Sign in to the admin first.");
  const back = encodeURIComponent(req.originalUrl);
  res.redirect(303, `${urlFor(req, "/admin/login")}?returnTo=${back}`);
};

/** /api/v1: `Authorization: Bearer <token>` only; cookies are ignored there. */
export function requireApiToken(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer\s+([A-Za-z0-9_-]{10,200})$/i.exec(header.trim());
    if (!match?.[1]) {
      res.set("WWW-Authenticate", 'Bearer realm="bazaarche"');
      throw new AppError("unauthorized", 401, "Send an API token in the header \"Authorization: Bearer <token>\". Create one under Admin → API tokens.");
    }
    const token = await authenticateApiToken(deps, match[1]);
    if (!token) {
      res.set("WWW-Authenticate", 'Bearer realm="bazaarche", error="invalid_token"');
      throw new AppError("invalid_token", 401, "This API token is unknown or has been revoked.");
    }
    res.locals.apiToken = token;
    next();
  };
}
