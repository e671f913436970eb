import { Router, type Response } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { ApiRetryBody, OutboxIdParams, OutboxListQuery } from "./outbox.schema.js";
import { displayStatus, listOutbox, retryEmail } from "./outbox.service.js";

/** /api/v1/outbox (JSON, Bearer token): the admin outbox's list, one email, retry now. */
export function outboxApiRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "api" as const, id: (res.locals.apiToken as { id: string }).id });

  router.get("/", validate({ query: OutboxListQuery }), async (req, res) => {
    const list = await listOutbox(deps, req.valid.query);
    res.json({ data: list.emails, nextCursor: list.nextCursor, sender: deps.mail?.sender.description ?? null });
  });

  router.get("/:id", validate({ params: OutboxIdParams }), async (req, res) => {
    const email = await deps.db.outboxEmail.findUnique({ where: { id: req.valid.params.id } });
    if (!email) throw AppError.notFound("email");
    const { leaseOwner: _owner, unsubscribeToken: _token, ...rest } = email;
    res.json({ data: { ...rest, status: displayStatus(email, deps.now()) } });
  });

  router.post("/:id/retry", validate({ params: OutboxIdParams, body: ApiRetryBody }), async (req, res) => {
    const email = await retryEmail(deps, { id: req.valid.params.id, actor: actor(res) });
    res.json({ data: { id: email.id, status: email.status, attempts: email.attempts, nextAttemptAt: email.nextAttemptAt } });
  });

  return router;
}
