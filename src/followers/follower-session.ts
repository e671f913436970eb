import type { Request, Response } from "express";
import type { Deps } from "../deps.js";
import { cookieOptions } from "../http/cookies.js";
import { FOLLOWER_COOKIE, FOLLOWER_SESSION_DAYS, followerFacts, followerFromSession, followerSessionToken } from "./followers.service.js";

/** The follower this browser proved to be (by a confirmation or sign-in link), with what coupon rules need. */
export async function currentFollower(deps: Deps, req: Request) {
  const follower = await followerFromSession(deps, req.cookies?.[FOLLOWER_COOKIE] as string | undefined);
  return follower ? { ...followerFacts(follower), emailKey: follower.emailKey, handle: follower.handle, platform: follower.platform } : null;
}

export async function rememberFollower(deps: Deps, req: Request, res: Response, followerId: string) {
  res.cookie(FOLLOWER_COOKIE, await followerSessionToken(deps, followerId), cookieOptions(req, { maxAge: FOLLOWER_SESSION_DAYS * 24 * 3600 * 1000 }));
}

export function forgetFollower(req: Request, res: Response) {
  res.clearCookie(FOLLOWER_COOKIE, cookieOptions(req));
}
