import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";
import { AppError } from "./errors.js";

/**
 * Every string that enters the shop must be well-formed Unicode. Two things
 * are not: a lone UTF-16 surrogate, which JSON can carry as "\ud800", and
 * bytes that are not UTF-8 (%ED%A0%80 in a form or a query string, or raw
 * bytes in a body). Node decodes the second kind into U+FFFD silently and
 * passes the first kind through, until the database driver or a URL encoder
 * throws deep inside a handler (a 500). This module refuses both at the edge
 * with a 400 that names the field, before any handler runs, so nothing is
 * written. It is wired once: the URL check and the body check in
 * storefront.ts, `utf8BodyCheck` as the body parsers' `verify`, multipart
 * fields in uploads.ts, webhooks after their signature check, and validate()
 * as a last net for bodies parsed by a route.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The path ("items.0.title") of the first string (or key) in `value` that is not well-formed, or null. */
export function findIllFormed(value: unknown, path: string[] = []): string | null {
  // One path array, pushed and popped: a webhook payload has hundreds of fields, and copying the path at each cost more than the checks.
  if (typeof value === "string") return isWellFormed(value) ? null : path.join(".") || "(body)";
  if (typeof value !== "object" || value === null || path.length > 64 || Buffer.isBuffer(value)) return null;
  for (const key of Object.keys(value)) {
    if (!isWellFormed(key)) return [...path, key.replace(LONE_SURROGATE, "\uFFFD")].join(".");
    path.push(key);
    const found = findIllFormed((value as Record<string, unknown>)[key], path);
    path.pop();
    if (found !== null) return found;
  }
  return null;
}

export function illFormedError(where: "body" | "query" | "path" | "webhook", field: string): AppError {
  const prefix = where === "body" ? "Invalid request body" : where === "query" ? "Invalid query string" : where === "path" ? "Invalid URL" : "Invalid webhook payload";
  const message = "not well-formed Unicode text (a lone UTF-16 surrogate, or bytes that are not UTF-8); send UTF-8.";
  return AppError.validation(`${prefix}: ${field}: ${message}`, [{ field, message }]);
}

/** Throws the 400 if `value` (a parsed body, query or params object) holds an ill-formed string. */
export function assertWellFormed(where: "body" | "query" | "path" | "webhook", value: unknown): void {
  const field = findIllFormed(value);
  if (field !== null) throw illFormedError(where, field);
}

/** %XX escapes and "+" decoded to bytes; other characters as their bytes (Latin-1 below U+0100, UTF-8 above). */
function escapedBytes(text: string, plusIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-f]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b && plusIsSpace) {
      bytes.push(0x20);
    } else if (c < 0x100) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(text[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes);
}

/**
 * The first field of an application/x-www-form-urlencoded string (a form
 * body or a query string) whose name or value is not UTF-8 once its escapes
 * are decoded, named as well as it can be; null when all are.
 */
export function findBadUrlencodedField(encoded: string): string | null {
  for (const pair of encoded.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = escapedBytes(eq === -1 ? pair : pair.slice(0, eq), true);
    const value = escapedBytes(eq === -1 ? "" : pair.slice(eq + 1), true);
    if (!isUtf8(key) || !isUtf8(value)) return key.toString("utf8") || "(unnamed field)";
  }
  return null;
}

/**
 * Path and query string of every request: their escapes must decode to
 * UTF-8. Mounted before any route reads req.query or req.params (Express
 * would decode a bad query into U+FFFD, and a bad path segment into a 400
 * that names nothing).
 */
export function wellFormedUrl(): RequestHandler {
  return (req, _res, next) => {
    const url = req.url;
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (!isUtf8(escapedBytes(path, false))) throw illFormedError("path", "path");
    if (q !== -1) {
      const field = findBadUrlencodedField(url.slice(q + 1));
      if (field !== null) throw illFormedError("query", field);
    }
    next();
  };
}

/** Parsed bodies (JSON can carry "\ud800" escapes, which are valid JSON): checked after the body parsers. */
export function wellFormedBody(): RequestHandler {
  return (req, _res, next) => {
    if (req.body !== undefined && !Buffer.isBuffer(req.body)) assertWellFormed("body", req.body);
    next();
  };
}

/**
 * `verify` for express.json and express.urlencoded: runs on the raw bytes
 * before they are decoded (which would turn bad bytes into U+FFFD). Throwing
 * an AppError here makes the parser answer with it.
 */
export function utf8BodyCheck(kind: "json" | "urlencoded") {
  return (_req: IncomingMessage, _res: unknown, buf: Buffer) => {
    if (kind === "urlencoded") {
      // Latin-1 maps each byte to one character, so raw bytes and %XX escapes are judged alike.
      const field = findBadUrlencodedField(buf.toString("latin1"));
      if (field !== null) throw illFormedError("body", field);
      return;
    }
    if (isUtf8(buf)) return;
    // Name the field: decode with each bad byte as a lone surrogate, parse, and look for it.
    let parsed: unknown;
    try {
      parsed = JSON.parse(markInvalidBytes(buf));
    } catch {
      throw illFormedError("body", "(body)");
    }
    throw illFormedError("body", findIllFormed(parsed) ?? "(body)");
  };
}

/**
 * What a byte that is not UTF-8 becomes in `markInvalidBytes(bytes, NOT_UTF8)`:
 * U+FFFF, a noncharacter that text never carries and that, unlike a lone
 * surrogate, survives parsers that re-encode their input (csv-parse does).
 */
export const NOT_UTF8 = "\uFFFF";

/** True when a cell decoded with `markInvalidBytes(bytes, NOT_UTF8)` held bytes that are not UTF-8. */
export function hadInvalidBytes(text: string): boolean {
  return text.includes(NOT_UTF8);
}

/**
 * UTF-8 decoding in which every byte that is not part of a valid sequence
 * becomes a lone surrogate (U+DC80–U+DCFF, as Python's "surrogateescape"),
 * or `marker`, so a later check finds, and names, the field it was in.
 */
export function markInvalidBytes(bytes: Uint8Array, marker?: string): string {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
    if (ok && len === 3) ok = !(b === 0xe0 && bytes[i + 1]! < 0xa0) && !(b === 0xed && bytes[i + 1]! >= 0xa0);
    if (ok && len === 4) ok = !(b === 0xf0 && bytes[i + 1]! < 0x90) && !(b === 0xf4 && bytes[i + 1]! >= 0x90);
    if (ok) {
      i += len;
      continue;
    }
    parts.push(Buffer.from(bytes.subarray(start, i)).toString("utf8"), marker ?? String.fromCharCode(0xdc00 + b));
    i += 1;
    start = i;
  }
  parts.push(Buffer.from(bytes.subarray(start)).toString("utf8"));
  return parts.join("");
}
