import type { Request } from "express";
import { rateLimit } from "express-rate-limit";
import type { Deps } from "../deps.js";
import { AppError } from "./errors.js";

export interface RateLimitOptions {
  windowMs: number;
  limit: number;
}

interface LimiterOptions extends RateLimitOptions {
  /** For guessable inputs (coupon codes): only refusals (status >= 400) count. */
  onlyFailures?: boolean;
  /** Counts per this key instead of per client address; null skips the limit for the request. */
  key?: (req: Request) => Promise<string | null>;
}

/**
 * A limiter whose refusal is an ordinary 429 AppError with a retry hint. Its
 * counters live in the store configured for the shop (deps.rateLimits: this
 * process, the database or Redis), so several instances share them.
 */
export function limiter(deps: Pick<Deps, "rateLimits">, name: string, opts: LimiterOptions, message: string) {
  const keyOf = opts.key;
  const keys = new WeakMap<Request, Promise<string | null>>();
  const cachedKey = (req: Request) => {
    let key = keys.get(req);
    if (!key) keys.set(req, (key = keyOf!(req)));
    return key;
  };
  return rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    skipSuccessfulRequests: opts.onlyFailures ?? false,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    identifier: name,
    store: deps.rateLimits.store(name),
    ...(keyOf
      ? {
          keyGenerator: async (req: Request) => `key:${await cachedKey(req)}`,
          skip: async (req: Request) => (await cachedKey(req)) === null,
        }
      : {}),
    handler(_req, _res, next, options) {
      const minutes = Math.max(1, Math.ceil(options.windowMs / 60000));
      next(new AppError("rate_limited", 429, `${message} Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`));
    },
  });
}
