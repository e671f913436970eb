import { Router } from "express";
import type { Deps } from "../deps.js";

/**
 * /health: the process is up (liveness). /ready: it can serve traffic — the
 * database answers and it is not shutting down (readiness, for load balancers).
 */
export function healthRoutes(deps: Deps, lifecycle: { draining: () => boolean }) {
  const router = Router();
  router.get("/health", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  router.get("/ready", async (_req, res) => {
    res.set("Cache-Control", "no-store");
    if (lifecycle.draining()) return res.status(503).json({ status: "draining" });
    try {
      await deps.db.$queryRawUnsafe("SELECT 1");
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "database_unavailable" });
    }
  });
  return router;
}
