import { Router } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { OutboxIdParams, OutboxListQuery, RetryBody } from "./outbox.schema.js";
import { displayStatus, listOutbox, retryEmail } from "./outbox.service.js";
import { absoluteLinks } from "./render.js";

const LINK = /https?:\/\/[^\s<>"]+/g;

/**
 * /admin/outbox: every email the shop has queued, with its delivery state
 * (attempts, last error, next attempt) and "retry now". Without a sender this
 * is where the emails are read: links stored relative to the shop are shown
 * against the admin's own address, so the whole flow can be tried offline.
 */
export function outboxAdminRoutes(deps: Deps) {
  const router = Router();

  router.get("/", async (req, res) => {
    // A stale bookmark with an unknown status shows everything rather than an error page.
    const q = OutboxListQuery.safeParse(req.query);
    const query = q.success ? q.data : { limit: 50 };
    const list = await listOutbox(deps, { ...query, limit: 50 });
    res.render("admin/outbox", { layout: "admin", nav: "outbox", title: res.locals.t("admin.outbox"), ...list, status: query.status, sender: deps.mail?.sender.description ?? null });
  });

  router.get("/:id", validate({ params: OutboxIdParams }), async (req, res) => {
    const email = await deps.db.outboxEmail.findUnique({ where: { id: req.valid.params.id } });
    if (!email) throw AppError.notFound("email");
    const body = absoluteLinks({ text: email.text, html: email.html }, res.locals.publicBase as string);
    res.set("Referrer-Policy", "no-referrer");
    res.render("admin/outbox-email", {
      layout: "admin",
      nav: "outbox",
      title: email.subject,
      retried: req.query.retried === "1",
      email: { ...email, text: body.text, status: displayStatus(email, deps.now()), retryable: email.status === "failed" || (email.status === "queued" && email.attempts > 0) },
      links: [...new Set([...body.text.matchAll(LINK)].map((m) => m[0]))],
    });
  });

  // The HTML part as the recipient's mail program would show it: sandboxed, no scripts, no requests to us.
  router.get("/:id/html", validate({ params: OutboxIdParams }), async (req, res) => {
    const email = await deps.db.outboxEmail.findUnique({ where: { id: req.valid.params.id }, select: { html: true, text: true } });
    if (!email?.html) throw AppError.notFound("email");
    const body = absoluteLinks({ text: email.text, html: email.html }, res.locals.publicBase as string);
    res.set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:");
    res.set("Referrer-Policy", "no-referrer");
    res.type("html").send(body.html);
  });

  router.post("/:id/retry", validate({ params: OutboxIdParams, body: RetryBody }), async (req, res) => {
    await retryEmail(deps, { id: req.valid.params.id, actor: { type: "admin", id: (res.locals.admin as { id: string }).id } });
    res.redirect(303, urlFor(req, `/admin/outbox/${encodeURIComponent(req.valid.params.id)}?retried=1`));
  });

  return router;
}
