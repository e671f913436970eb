import type { RequestHandler } from "express";
import { z, type ZodError, type ZodType } from "zod";
import { AppError } from "./errors.js";
import { assertWellFormed } from "./well-formed.js";

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
      // Also covers bodies parsed by a route's own parser, after the storefront-wide check.
      assertWellFormed(part === "params" ? "path" : part, req[part]);
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

/**
 * The schema of a partial update, built from the create schema: every field
 * optional, unknown fields refused, at least one field required, and — the
 * point — a field the request does not name stays out of the result. A create
 * schema's `.default()`s, `.catch()`es and `undefined → null` transforms
 * would otherwise invent a value for every field left out (Zod 4 applies
 * them inside `.partial()` too), and the update would overwrite stored data
 * with it. Object-level refinements of the create schema are not copied:
 * they judge the merged record, so the service re-checks that.
 */
export function patchOf<S extends z.ZodRawShape>(schema: z.ZodObject<S>, message = "Send at least one field to change.") {
  const shape: Record<string, ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape)) shape[key] = absentStaysAbsent(field as ZodType).optional();
  return z.strictObject(shape as { [K in keyof S]: z.ZodOptional<S[K]> }).refine((patch) => Object.values(patch).some((v) => v !== undefined), message);
}

/** `field` without anything that turns a missing value into a present one. */
function absentStaysAbsent(field: ZodType): ZodType {
  const def = field._zod.def as { type: string; innerType?: ZodType; in?: ZodType; out?: ZodType };
  switch (def.type) {
    case "default":
    case "prefault":
    case "catch":
    case "optional":
      return absentStaysAbsent(def.innerType!);
    case "nullable":
      return absentStaysAbsent(def.innerType!).nullable();
    case "pipe":
      // `.nullish().transform(v => v ?? null)` is a pipe whose input accepts undefined.
      return absentStaysAbsent(def.in!).pipe(def.out! as never);
    default:
      return field;
  }
}

type Fields = Record<string, unknown>;

/**
 * An edit applied to the stored record, as the create schema's input: the
 * fields the edit names replace the stored ones, every other field keeps its
 * stored value. `lists` merges a named list of sub-records item by item
 * (`matchOn` finds the stored item an edited one stands for), so an edited
 * variant keeps the fields the edit leaves out; items left out of the list
 * are dropped, as the list is what the edit names. The result is then judged
 * whole by the create schema, so rules across fields still hold.
 */
export function applyEdit(stored: Fields, edit: Fields, lists: Record<string, (storedItem: Fields, editedItem: Fields) => boolean> = {}): Fields {
  const merged: Fields = { ...stored };
  for (const [key, value] of Object.entries(edit)) {
    const matchOn = lists[key];
    const storedValue = stored[key];
    if (matchOn && Array.isArray(value) && Array.isArray(storedValue)) {
      merged[key] = value.map((item: unknown) => {
        if (!isFields(item)) return item;
        const original = (storedValue as unknown[]).find((s): s is Fields => isFields(s) && matchOn(s, item));
        return original ? { ...original, ...item } : item;
      });
    } else if (isFields(value) && isFields(storedValue)) {
      // A nested record (translations.fa) is edited field by field too.
      merged[key] = applyEdit(storedValue, value);
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

const isFields = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Saving an edit form: the posted fields applied to the stored record as the
 * form would show it (`stored`, the form's own strings). A field the post does
 * not carry keeps its value. Keys under a group prefix ("variants.") are one
 * unit: a post that carries any of them carries the whole group. Checkboxes
 * come after a hidden input of the same name and value "", so an unchecked
 * box is posted ("") and a box that is not in the form is not.
 */
export function applyFormEdit(stored: Record<string, unknown>, posted: Record<string, unknown>, groups: string[] = []): Record<string, unknown> {
  const postedGroups = new Set(groups.filter((g) => Object.keys(posted).some((k) => k.startsWith(`${g}.`))));
  const kept = Object.entries(stored).filter(([k]) => ![...postedGroups].some((g) => k.startsWith(`${g}.`)));
  return { ...Object.fromEntries(kept), ...posted };
}

/** A form field's value: the last one when a name repeats (a checkbox after its hidden ""). */
export function formValue(value: unknown): string {
  if (Array.isArray(value)) return formValue(value[value.length - 1]);
  return typeof value === "string" ? value : "";
}
