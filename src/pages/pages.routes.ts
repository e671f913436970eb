import { Router } from "express";

/**
 * GET /session.json: what a page served from a shared cache leaves out,
 * for this browser only: the CSRF token its forms post (the CSRF middleware
 * has set the cookie it is bound to by now). Never cached.
 */
export function sessionRoutes() {
  const router = Router();
  router.get("/session.json", (_req, res) => {
    res.set("Cache-Control", "no-store");
    res.json({ csrfToken: res.locals.csrfToken as string });
  });
  return router;
}
