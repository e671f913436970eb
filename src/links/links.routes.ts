import { Router } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { ATTRIBUTION_COOKIE, newVisitorId, parseAttributionCookie, setAttributionCookie } from "./attribution.js";
import { automatedReason } from "./bots.js";
import { LinkCodeParams } from "./links.schema.js";
import { findLinkByCode, linkDestination, recordLinkClick, referrerHost } from "./links.service.js";

/**
 * /l/:code, the tracked redirect. GET (and HEAD, which Express routes here
 * too); it changes nothing a cross-site request could abuse, so it sits
 * before the CSRF check and sets no CSRF cookie.
 */
export function linksRoutes(deps: Deps) {
  const router = Router();

  router.get("/l/:code", async (req, res) => {
    const params = LinkCodeParams.safeParse(req.params);
    const link = params.success ? await findLinkByCode(deps, { code: params.data.code }) : null;
    if (!link) throw new AppError("not_found", 404, "This short link does not exist. Check the address, or visit the shop's home page.");
    // Computed from the stored reference, never from the request: only the shop's own pages.
    const destination = urlFor(req, linkDestination(link, deps.now()));
    // Every click must reach us (to be counted), and the answer carries a cookie.
    res.set({ "Cache-Control": "no-store", "X-Robots-Tag": "noindex" });
    if (automatedReason(req) === null) {
      // Keep the browser's visitor id across clicks; the new click replaces the old one (last click wins).
      const visitorId = parseAttributionCookie(req.cookies?.[ATTRIBUTION_COOKIE])?.visitorId ?? newVisitorId();
      const click = await recordLinkClick(deps, { link, visitorId, referrer: referrerHost(req.get("referer")), request: req });
      setAttributionCookie(req, res, { clickId: click.id, visitorId });
    }
    res.redirect(302, destination);
  });

  return router;
}
