import { Router } from "express";
import { CreateTokenBody, IdParams } from "../auth/auth.schema.js";
import { createApiToken, listApiTokens, revokeApiToken } from "../auth/auth.service.js";
import type { Deps } from "../deps.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { dashboardPage } from "../analytics/analytics.routes.js";

/** Admin HTML pages; mounted behind requireAdmin. */
export function adminRoutes(deps: Deps) {
  const router = Router();

  // The admin home is the analytics dashboard (src/analytics).
  router.get("/", ...dashboardPage(deps));

  router.get("/tokens", async (_req, res) => {
    res.render("admin/tokens", { layout: "admin", title: res.locals.t("admin.tokens"), nav: "tokens", tokens: await listApiTokens(deps) });
  });

  router.post("/tokens", validate({ body: CreateTokenBody }), async (req, res) => {
    const { token, apiToken } = await createApiToken(deps, { name: req.valid.body.name, adminUserId: res.locals.admin.id });
    // Rendered, not redirected: the plaintext must never sit in a URL or a cookie.
    res.status(201).render("admin/tokens", {
      layout: "admin",
      title: res.locals.t("admin.tokens"),
      nav: "tokens",
      tokens: await listApiTokens(deps),
      created: { name: apiToken.name, token },
    });
  });

  router.post("/tokens/:id/revoke", validate({ params: IdParams }), async (req, res) => {
    await revokeApiToken(deps, { id: req.valid.params.id });
    res.redirect(303, urlFor(req, "/admin/tokens"));
  });

  return router;
}
