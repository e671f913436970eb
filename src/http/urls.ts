import type { Request } from "express";

/** Joins the mount path and an app path: ("/shop", "/p/x") → "/shop/p/x"; ("", "") → "/". */
export function joinPath(base: string, p: string): string {
  const suffix = p.startsWith("/") || p === "" ? p : `/${p}`;
  const joined = `${base.replace(/\/+$/, "")}${suffix}`;
  return joined === "" ? "/" : joined;
}

/**
 * Where the storefront is mounted, as seen by this request: the configured
 * public URL when there is one, else the request's own origin plus mount path.
 */
export function publicBaseFor(req: Request, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, "");
  return `${req.protocol}://${req.get("host") ?? "localhost"}${mountPath(req)}`.replace(/\/+$/, "");
}

/**
 * Where the storefront is mounted ("/shop", or "" at the root). Captured once
 * at the top of the sub-app: inside a feature router `req.baseUrl` also holds
 * the router's own prefix ("/shop/admin"), which is not what links need.
 */
export function mountPath(req: Request): string {
  return (req.res?.locals.base as string | undefined) ?? req.baseUrl;
}

/** A path inside the storefront, with the mount path in front (for redirects). */
export function urlFor(req: Request, p: string): string {
  return joinPath(mountPath(req), p);
}

/** Only same-app relative paths are allowed as post-login destinations. */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  if (!value.startsWith("/") || value.startsWith("//") || value.includes("\\") || /[\r\n]/.test(value)) return undefined;
  return value;
}
