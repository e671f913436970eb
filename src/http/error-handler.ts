import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { isDatabaseUnavailable } from "../db/errors.js";
import { errorText } from "../i18n/error-text.js";
import type { Locale } from "../i18n/translate.js";
import { AppError } from "./errors.js";
import { zodDetails, zodMessage } from "./validate.js";
import { wantsJson } from "./wants-json.js";

/** What a 503 asks clients (and load balancers, and Stripe's webhook retries) to wait. */
export const RETRY_AFTER_SECONDS = 5;

/** Unknown routes: one 404 in the same shape as every other error. */
export const notFound: RequestHandler = (req) => {
  throw new AppError("not_found", 404, `No route for ${req.method} ${req.originalUrl.split("?")[0]}.`);
};

/** Turns anything thrown into an AppError a client may see. Never leaks a 5xx's internals. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return AppError.validation(zodMessage(err), zodDetails(err));
  const e = err as { type?: string; status?: number; statusCode?: number; code?: string } | null;
  // body-parser errors carry a `type`; map the ones a client can fix.
  if (e?.type === "entity.parse.failed") return new AppError("invalid_json", 400, "The request body is not valid JSON.");
  if (e?.type === "entity.too.large") return new AppError("payload_too_large", 413, "The request body is too large.");
  if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported") {
    return new AppError("unsupported_encoding", 415, "The request body encoding is not supported; send UTF-8.");
  }
  if (e?.code === "P2025") return AppError.notFound("record");
  // The database is down, restarting, failing over or out of connections:
  // nothing was written by the failed statement, and a retry soon may work.
  if (isDatabaseUnavailable(err)) return new AppError("service_unavailable", 503, "The shop is briefly unavailable. Nothing was changed; please try again in a few seconds.");
  const status = e?.status ?? e?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new AppError("bad_request", status, "The request could not be processed.");
  }
  return new AppError("internal_error", 500, "Something went wrong on our side. Please try again.");
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const appError = toAppError(err);
  if (appError.status === 503) req.log?.warn({ err: (err as Error)?.message }, "database unavailable: answered 503");
  else if (appError.status >= 500) req.log?.error({ err }, "request failed");
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(appError.status);
  if (appError.status === 503) res.set("Retry-After", String(RETRY_AFTER_SECONDS));
  if (appError.status === 405 && Array.isArray(appError.details)) res.set("Allow", appError.details.join(", "));
  const body = { error: { code: appError.code, message: appError.message, details: appError.details ?? null } };
  if (wantsJson(req)) {
    res.json(body);
    return;
  }
  // The page's language when the error has words in it (error-text.ts); the
  // API's English otherwise, marked as English so it is read and laid out as such.
  const { text, translated } = errorText(appError, (res.locals.locale as Locale | undefined) ?? "en");
  res.render("errors/error", {
    title: appError.status === 404 ? res.locals.t?.("error.notFound") : res.locals.t?.("error.title"),
    status: appError.status,
    message: text,
    messageLang: translated ? null : "en",
    // Which field to fix, as the API names it (a form normally prevents these).
    details: (!translated || appError.code === "validation_failed") && Array.isArray(appError.details) ? appError.details : null,
    requestId: req.id,
  });
};
