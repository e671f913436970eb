import type { Request, Response } from "express";
import { recordEvent, type RequestLike } from "../analytics/events.js";
import type { Deps } from "../deps.js";
import { recordPageEvent } from "../pages/page-cache.js";

/**
 * The one place live shopping records analytics, through the shop's event
 * writer (buffered, bot-filtered, `Sec-GPC` honoured): `live_join` (a viewer
 * opened the page; the visitor is the page's own viewer cookie, hashed, so
 * the stats count distinct viewers; none under `Sec-GPC`) and `live_claim` (a
 * claim was made). A claim carries no visitor: a comment claim's claimant is
 * a chat handle, which is personal data and never goes into an event.
 * A first visit (no cookies) is served one page for everyone and has no
 * viewer id yet: its join counts by the event writer's daily visitor key
 * (address and browser, hashed), see `liveStats`.
 */
export function recordLiveAnalytics(
  deps: Pick<Deps, "db" | "logger" | "now">,
  input: { type: "live_join" | "live_claim"; sessionId: string; visitorId?: string | null; productId?: string | null; valueMinor?: number | null; meta?: Record<string, string | number | boolean | null> },
  req?: RequestLike,
) {
  recordEvent(deps, { type: input.type, liveSessionId: input.sessionId, visitorId: input.visitorId ?? null, productId: input.productId ?? null, valueMinor: input.valueMinor ?? null, meta: input.meta }, req);
}

/** A first visit's join, on a page the page cache serves again: it records the join for each copy it serves. */
export function recordAnonymousLiveJoin(deps: Deps, req: Request, res: Response, input: { sessionId: string; meta?: Record<string, string | number | boolean | null> }) {
  recordPageEvent(deps, req, res, { type: "live_join", liveSessionId: input.sessionId, meta: input.meta });
}
