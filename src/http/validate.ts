import type { RequestHandler } from "express";
import { z, type ZodError, type ZodType } from "zod";
import { AppError } from "./errors.js";

export interface Validated<B = unknown, Q = unknown, P = unknown> {
  body: B;
  query: Q;
  params: P;
}

declare module "express-serve-static-core" {
  interface Request {
    /** Typed, parsed input set by validate(); handlers read only this. */
    valid: Validated<any, any, any>;
  }
}

export function zodDetails(err: ZodError) {
  return err.issues.map((i) => ({ field: i.path.join(".") || "(root)", message: i.message }));
}

/** "email: Invalid email address; quantity: Too small" — names every field to fix. */
export function zodMessage(err: ZodError, prefix = "Invalid input") {
  return `${prefix}: ${zodDetails(err)
    .map((d) => `${d.field}: ${d.message}`)
    .join("; ")}`;
}

/**
 * Parses body, query and params with Zod before the handler runs. A failure
 * is a 400 listing each field; nothing after it runs, so nothing is written.
 */
export function validate<B extends ZodType = ZodType, Q extends ZodType = ZodType, P extends ZodType = ZodType>(schemas: {
  body?: B;
  query?: Q;
  params?: P;
}): RequestHandler {
  return (req, _res, next) => {
    const valid = { body: undefined, query: undefined, params: undefined } as Validated<unknown, unknown, unknown>;
    for (const part of ["params", "query", "body"] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const result = schema.safeParse(req[part] ?? {});
      if (!result.success) {
        throw AppError.validation(zodMessage(result.error, `Invalid ${part === "body" ? "request body" : part === "query" ? "query string" : "URL"}`), zodDetails(result.error));
      }
      valid[part] = result.data;
    }
    req.valid = valid;
    next();
  };
}

/** Admin writes reject unknown fields so typos do not silently do nothing. */
export const strictObject = z.strictObject;
