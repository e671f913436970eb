import { rateLimit } from "express-rate-limit";
import { AppError } from "./errors.js";

export interface RateLimitOptions {
  windowMs: number;
  limit: number;
}

/** A per-IP limiter whose refusal is an ordinary 429 AppError with a retry hint. */
export function limiter(name: string, opts: RateLimitOptions & { onlyFailures?: boolean }, message: string) {
  return rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    // For guessable inputs (coupon codes): only refusals (status >= 400) count.
    skipSuccessfulRequests: opts.onlyFailures ?? false,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    identifier: name,
    handler(_req, _res, next, options) {
      const minutes = Math.max(1, Math.ceil(options.windowMs / 60000));
      next(new AppError("rate_limited", 429, `${message} Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`));
    },
  });
}
