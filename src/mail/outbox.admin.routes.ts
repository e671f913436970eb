import { Router } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";

const ListQuery = z.object({ status: z.enum(["queued", "sent", "failed"]).optional().catch(undefined), cursor: z.string().max(64).optional() });
const IdParams = z.object({ id: z.string().min(1).max(64) });

/**
 * /admin/outbox: every email the shop has queued (order confirmations, follow
 * confirmations, review requests, personal codes). Without SMTP configured
 * this is where they are read, so the whole flow can be tried offline.
 */
export function outboxAdminRoutes(deps: Deps) {
  const router = Router();

  router.get("/", validate({ query: ListQuery }), async (req, res) => {
    const { status, cursor } = req.valid.query as z.infer<typeof ListQuery>;
    const rows = await deps.db.outboxEmail.findMany({
      where: status ? { status } : {},
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 51,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      select: { id: true, to: true, subject: true, template: true, status: true, createdAt: true, sentAt: true },
    });
    res.render("admin/outbox", { layout: "admin", nav: "outbox", title: res.locals.t("admin.outbox"), emails: rows.slice(0, 50), nextCursor: rows.length > 50 ? rows[49]?.id : null, status });
  });

  router.get("/:id", validate({ params: IdParams }), async (req, res) => {
    const email = await deps.db.outboxEmail.findUnique({ where: { id: req.valid.params.id } });
    if (!email) throw AppError.notFound("email");
    res.set("Referrer-Policy", "no-referrer");
    res.render("admin/outbox-email", { layout: "admin", nav: "outbox", title: email.subject, email, links: [...email.text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]) });
  });

  return router;
}
