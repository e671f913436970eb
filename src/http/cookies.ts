import type { CookieOptions, Request } from "express";
import { mountPath } from "./urls.js";

/**
 * Cookie options shared by every cookie we set: scoped to the mount path so a
 * host app's own cookies and ours never collide, Secure whenever the request
 * arrived over HTTPS (directly or, with trust proxy, through a proxy).
 */
export function cookieOptions(req: Request, extra: CookieOptions = {}): CookieOptions {
  return {
    httpOnly: true,
    sameSite: "lax",
    secure: req.secure,
    path: mountPath(req) || "/",
    ...extra,
  };
}
