import type { Request } from "express";

/** API clients get JSON errors; browsers get an HTML page. */
export function wantsJson(req: Request): boolean {
  if (req.path.startsWith("/api/") || req.path.startsWith("/webhooks/") || req.path.startsWith("/feeds/")) return true;
  const preferred = req.accepts(["html", "json"]);
  if (preferred === "json") return true;
  if (preferred === "html") return false;
  return req.is("application/json") === "application/json";
}
