import { Router } from "express";
import { CreateTokenBody, IdParams } from "../auth/auth.schema.js";
import { createApiToken, listApiTokens, revokeApiToken } from "../auth/auth.service.js";
import { catalogApiRoutes } from "../catalog/catalog.api.routes.js";
import { couponApiRoutes } from "../coupons/coupons.api.routes.js";
import { csvApiRoutes } from "../catalog/csv/csv.api.routes.js";
import { ordersApiRoutes } from "../checkout/orders.api.routes.js";
import type { Deps } from "../deps.js";
import { analyticsApiRoutes } from "../analytics/analytics.api.routes.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { linksApiRoutes } from "../links/links.api.routes.js";
import { postsApiRoutes } from "../posts/posts.api.routes.js";
import { reviewsApiRoutes } from "../reviews/reviews.api.routes.js";

/** JSON admin API, /api/v1; mounted behind requireApiToken. Features add their routers here. */
export function apiRoutes(deps: Deps) {
  const router = Router();

  router.get("/me", (_req, res) => {
    res.json({ data: { token: res.locals.apiToken, shop: deps.shop } });
  });

  router.get("/tokens", async (_req, res) => {
    res.json({ data: await listApiTokens(deps) });
  });

  router.post("/tokens", validate({ body: CreateTokenBody.omit({ _csrf: true }) }), async (req, res) => {
    const { token, apiToken } = await createApiToken(deps, { name: req.valid.body.name });
    res.status(201).json({ data: { ...apiToken, token } });
  });

  router.delete("/tokens/:id", validate({ params: IdParams }), async (req, res) => {
    if (req.valid.params.id === res.locals.apiToken.id) {
      throw AppError.conflict("A token cannot revoke itself; use another token or the admin page.");
    }
    res.json({ data: await revokeApiToken(deps, { id: req.valid.params.id }) });
  });

  // Feature APIs, one router each.
  router.use(csvApiRoutes(deps));
  router.use(catalogApiRoutes(deps));
  router.use(couponApiRoutes(deps));
  router.use(ordersApiRoutes(deps));
  router.use(postsApiRoutes(deps));
  router.use(linksApiRoutes(deps));
  router.use(reviewsApiRoutes(deps));
  router.use(analyticsApiRoutes(deps));

  return router;
}
