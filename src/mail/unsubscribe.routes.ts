import express, { Router } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { validate } from "../http/validate.js";
import { UnsubscribeParams } from "./outbox.schema.js";
import { findUnsubscribe, UNSUBSCRIBE_PATH, unsubscribeByToken } from "./outbox.service.js";

/** "s…@example.com": enough for the person to recognise, not a full address on a page anyone with the link sees. */
const masked = (email: string) => email.replace(/^(.)[^@]*(@.*)$/, "$1…$2");

/**
 * The unsubscribe link of marketing mail. GET shows a page with a button and
 * changes nothing (link scanners open every URL); POST unsubscribes, from that
 * button or from a mail client's one-click request (RFC 8058, body
 * "List-Unsubscribe=One-Click", no cookies).
 */
export function unsubscribeRoutes(deps: Deps) {
  const router = Router();
  // One-click requests come form-encoded or multipart; the body is not needed either way.
  const drain = express.urlencoded({ extended: false, limit: "2kb" });

  router.get(`${UNSUBSCRIBE_PATH}/:token`, validate({ params: UnsubscribeParams }), async (req, res) => {
    const found = await findUnsubscribe(deps, req.valid.params.token);
    if (!found) throw new AppError("link_invalid", 404, "This unsubscribe link is not valid.");
    res.set("Referrer-Policy", "no-referrer");
    res.render("mail/unsubscribe", { title: res.locals.t("unsubscribe.title"), email: masked(found.email), token: req.valid.params.token });
  });

  router.post(`${UNSUBSCRIBE_PATH}/:token`, drain, validate({ params: UnsubscribeParams }), async (req, res) => {
    const found = await unsubscribeByToken(deps, req.valid.params.token);
    res.set("Referrer-Policy", "no-referrer");
    res.render("mail/unsubscribe", { title: res.locals.t("unsubscribe.title"), email: masked(found.email), done: true });
  });

  return router;
}
