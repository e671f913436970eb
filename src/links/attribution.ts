import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { Deps } from "../deps.js";
import { cookieOptions } from "../http/cookies.js";

/**
 * Last-click attribution for orders (see README.md beside this file).
 *
 * A counted click on /l/:code sets one cookie, `bz_attr`, holding
 * "<LinkClick id>.<visitor id>". The visitor id is 192 random bits made for
 * this browser and stored on the LinkClick row, so the cookie is only good
 * if both halves match a row we wrote: a shopper can replay their own click
 * but cannot point the cookie at another link, because they do not know the
 * visitor id of anyone else's click. No signing key is needed.
 */
export const ATTRIBUTION_COOKIE = "bz_attr";
export const ATTRIBUTION_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export interface Attribution {
  linkId: string | null;
  postId: string | null;
  liveSessionId: string | null;
  channel: string | null;
  visitorId: string;
}

const CLICK_ID = /^[a-z0-9]{10,40}$/;
const VISITOR_ID = /^[A-Za-z0-9_-]{32}$/;

export function newVisitorId(): string {
  return randomBytes(24).toString("base64url");
}

/** The two halves of a well-formed cookie value, or null. Says nothing about whether they match a click. */
export function parseAttributionCookie(value: unknown): { clickId: string; visitorId: string } | null {
  if (typeof value !== "string" || value.length > 80) return null;
  const dot = value.indexOf(".");
  const clickId = value.slice(0, dot);
  const visitorId = value.slice(dot + 1);
  if (dot < 0 || !CLICK_ID.test(clickId) || !VISITOR_ID.test(visitorId)) return null;
  return { clickId, visitorId };
}

/** Sets the cookie after a counted click: HttpOnly, SameSite=Lax, scoped to the mount path, 7 days. */
export function setAttributionCookie(req: Request, res: Response, input: { clickId: string; visitorId: string }) {
  res.cookie(ATTRIBUTION_COOKIE, `${input.clickId}.${input.visitorId}`, cookieOptions(req, { maxAge: ATTRIBUTION_WINDOW_MS }));
}

function cookieValue(req: Request): unknown {
  if (req.cookies) return req.cookies[ATTRIBUTION_COOKIE];
  // Robust to a caller mounted before cookie-parser: read the header ourselves.
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === ATTRIBUTION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The link, post, live session and channel to credit for this request: the
 * browser's last counted click, if it was within 7 days of `deps.now()`.
 * Null when there is no cookie, it is malformed, it does not match a click we
 * recorded (forged or from another shop), or the click is too old.
 */
export async function readAttribution(deps: Deps, req: Request): Promise<Attribution | null> {
  const parsed = parseAttributionCookie(cookieValue(req));
  if (!parsed) return null;
  const click = await deps.db.linkClick.findUnique({
    where: { id: parsed.clickId },
    select: { visitorId: true, at: true, link: { select: { id: true, postId: true, liveSessionId: true, channel: true } } },
  });
  if (!click || !sameString(click.visitorId, parsed.visitorId)) return null;
  const age = deps.now().getTime() - click.at.getTime();
  // A click "from the future" means the row was not written by this clock; refuse it too.
  if (age > ATTRIBUTION_WINDOW_MS || age < -60_000) return null;
  return {
    linkId: click.link.id,
    postId: click.link.postId,
    liveSessionId: click.link.liveSessionId,
    channel: click.link.channel || null,
    visitorId: parsed.visitorId,
  };
}

function sameString(a: string, b: string) {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
