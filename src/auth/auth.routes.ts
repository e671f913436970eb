import { Router } from "express";
import type { Deps } from "../deps.js";
import { cookieOptions } from "../http/cookies.js";
import { limiter, type RateLimitOptions } from "../http/rate-limit.js";
import { safeReturnPath, urlFor } from "../http/urls.js";
import { SESSION_COOKIE } from "./auth.middleware.js";
import { LoginBody } from "./auth.schema.js";
import { authenticateAdmin, createAdminSession, endAdminSession, SESSION_DAYS } from "./auth.service.js";

/** /admin/login and /admin/logout. */
export function authRoutes(deps: Deps, loginLimit: RateLimitOptions) {
  const router = Router();
  const loginLimiter = limiter(deps, "admin-login", loginLimit, "Too many sign-in attempts from this address.");

  router.get("/login", (req, res) => {
    if (res.locals.admin) return res.redirect(303, urlFor(req, "/admin"));
    res.render("admin/login", { layout: "admin", title: res.locals.t("admin.login.submit"), returnTo: safeReturnPath(req.query.returnTo) ?? "" });
  });

  router.post("/login", loginLimiter, async (req, res) => {
    const parsed = LoginBody.safeParse(req.body);
    const email = typeof req.body?.email === "string" ? req.body.email : "";
    const returnTo = safeReturnPath(req.body?.returnTo) ?? "";
    const admin = parsed.success ? await authenticateAdmin(deps, parsed.data) : null;
    if (!admin) {
      const message = parsed.success ? res.locals.t("admin.login.failed") : parsed.error.issues.map((i) => i.message).join(" ");
      res.status(parsed.success ? 401 : 400);
      return res.render("admin/login", { layout: "admin", title: res.locals.t("admin.login.submit"), error: message, email, returnTo });
    }
    const session = await createAdminSession(deps, { adminUserId: admin.id, userAgent: req.get("user-agent") ?? "" });
    res.cookie(SESSION_COOKIE, session.token, cookieOptions(req, { maxAge: SESSION_DAYS * 24 * 3600 * 1000 }));
    // returnTo is a path the browser saw (it already carries the mount path).
    res.redirect(303, returnTo || urlFor(req, "/admin"));
  });

  router.post("/logout", async (req, res) => {
    const token = req.cookies?.[SESSION_COOKIE];
    if (typeof token === "string") await endAdminSession(deps, token);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.redirect(303, urlFor(req, "/admin/login"));
  });

  return router;
}
