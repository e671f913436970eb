import { Router } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { listJobs, requestJobRun } from "./jobs.service.js";

const NameParams = z.object({ name: z.string().regex(/^[a-z0-9._-]{1,80}$/i, "a job name such as checkout.sweep") });
const RunBody = z.object({ _csrf: z.string().optional() }).strict();

/** /admin/jobs: every background job, its last run, duration, result or error, progress, and "run now". */
export function jobsAdminRoutes(deps: Deps) {
  const router = Router();

  router.get("/", async (req, res) => {
    res.render("admin/jobs", { layout: "admin", nav: "jobs", title: res.locals.t("jobs.title"), jobs: await listJobs(deps), requested: req.query.requested });
  });

  router.post("/:name/run", validate({ params: NameParams, body: RunBody }), async (req, res) => {
    const jobs = await listJobs(deps);
    if (!jobs.some((j) => j.name === req.valid.params.name)) throw AppError.notFound("job");
    await requestJobRun(deps, req.valid.params.name);
    res.redirect(303, urlFor(req, `/admin/jobs?requested=${encodeURIComponent(req.valid.params.name)}`));
  });

  return router;
}
