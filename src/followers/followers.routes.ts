import { recordEvent } from "../analytics/events.js";
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../deps.js";
import type { Locale } from "../i18n/translate.js";
import { limiter } from "../http/rate-limit.js";
import { validate } from "../http/validate.js";
import { forgetFollower, rememberFollower, currentFollower } from "./follower-session.js";
import { FOLLOW_PLATFORMS, FollowBody, SignInBody, TokenQuery } from "./followers.schema.js";
import {
  completeFollowerSignIn,
  confirmFollow,
  eraseFollower,
  exportFollowerData,
  followerFromManageToken,
  manageLinkToken,
  requestFollow,
  requestFollowerSignIn,
  unfollow,
} from "./followers.service.js";
import { verificationOf } from "../coupons/coupon-rules.js";

const ManageBody = z.object({ token: z.string().min(20).max(600), _csrf: z.string().optional() });

/** /follow: follow (double opt-in), sign in as a follower, and manage or delete one's data. */
export function followerRoutes(deps: Deps, options: { submitsPer15Min?: number } = {}) {
  const router = Router();
  // Each submission sends an email: limited per address so the form cannot be used to spam.
  const submitLimit = limiter(deps, "follow-submit", { windowMs: 15 * 60_000, limit: options.submitsPer15Min ?? 5 }, "Too many requests from this address.");

  const renderFollow = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    const follower = await currentFollower(deps, req);
    res.render("follow/follow", {
      title: res.locals.t("follow.title"),
      platforms: FOLLOW_PLATFORMS,
      follower,
      manageToken: follower ? await manageLinkToken(deps, follower.id) : null,
      values: {},
      ...extra,
    });
  };

  router.get("/follow", async (req, res) => {
    await renderFollow(req, res);
  });

  router.post("/follow", submitLimit, async (req, res) => {
    const parsed = FollowBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400);
      return renderFollow(req, res, { errors: parsed.error.issues.map((i) => ({ field: String(i.path[0]), message: i.message })), values: req.body });
    }
    await requestFollow(deps, { ...parsed.data, locale: res.locals.locale as Locale });
    await renderFollow(req, res, { sent: parsed.data.email });
  });

  router.get("/follow/confirm", validate({ query: TokenQuery }), async (req, res) => {
    const follower = await confirmFollow(deps, { token: req.valid.query.token });
    recordEvent(deps, { type: "follow", meta: { platform: follower.platform, verification: follower.importedAt ? "both" : "email" } }, req);
    await rememberFollower(deps, req, res, follower.id);
    res.set("Referrer-Policy", "no-referrer");
    res.render("follow/done", { title: res.locals.t("follow.title"), message: res.locals.t("follow.confirmed", { handle: follower.handle }), manageToken: await manageLinkToken(deps, follower.id) });
  });

  router.post("/follow/signin", submitLimit, async (req, res) => {
    const parsed = SignInBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400);
      return renderFollow(req, res, { signinErrors: parsed.error.issues.map((i) => i.message), values: req.body });
    }
    await requestFollowerSignIn(deps, { email: parsed.data.email, locale: res.locals.locale as Locale });
    await renderFollow(req, res, { signinSent: parsed.data.email });
  });

  router.get("/follow/signin/confirm", validate({ query: TokenQuery }), async (req, res) => {
    const follower = await completeFollowerSignIn(deps, { token: req.valid.query.token });
    await rememberFollower(deps, req, res, follower.id);
    res.set("Referrer-Policy", "no-referrer");
    res.render("follow/done", { title: res.locals.t("follow.title"), message: res.locals.t("follow.signedIn", { handle: follower.handle }), manageToken: await manageLinkToken(deps, follower.id) });
  });

  router.get("/follow/manage", validate({ query: TokenQuery }), async (req, res) => {
    const follower = await followerFromManageToken(deps, req.valid.query.token);
    res.set("Referrer-Policy", "no-referrer");
    res.render("follow/manage", { title: res.locals.t("follow.manageTitle"), follower: { ...follower, verification: verificationOf(follower) }, token: req.valid.query.token });
  });

  router.get("/follow/manage/export", validate({ query: TokenQuery }), async (req, res) => {
    const follower = await followerFromManageToken(deps, req.valid.query.token);
    res.attachment(`follower-data-${follower.id}.json`);
    res.json(await exportFollowerData(deps, { followerId: follower.id }));
  });

  router.post("/follow/manage/unfollow", validate({ body: ManageBody }), async (req, res) => {
    const follower = await followerFromManageToken(deps, req.valid.body.token);
    await unfollow(deps, { followerId: follower.id, actor: { type: "shopper", id: follower.id } });
    forgetFollower(req, res);
    res.render("follow/done", { title: res.locals.t("follow.manageTitle"), message: res.locals.t("follow.unfollowed") });
  });

  router.post("/follow/manage/erase", validate({ body: ManageBody }), async (req, res) => {
    const follower = await followerFromManageToken(deps, req.valid.body.token);
    await eraseFollower(deps, { followerId: follower.id, actor: { type: "shopper", id: follower.id } });
    forgetFollower(req, res);
    res.render("follow/done", { title: res.locals.t("follow.manageTitle"), message: res.locals.t("follow.erased") });
  });

  return router;
}
