import type { Request } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ATTRIBUTION_COOKIE, readAttribution } from "../src/links/attribution.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { cookieNamed } from "./helpers/html.js";
import { BROWSER_UA, createLink, createLiveSession, createPost } from "./helpers/post-factories.js";

/**
 * readAttribution is what checkout calls to credit an order. These tests
 * click real links over HTTP, then hand the cookie they got to it directly.
 */

let t: TestApp;
let clock = new Date("2026-11-20T12:00:00Z");
beforeAll(async () => {
  t = await buildTestApp({ now: () => clock });
});
afterAll(() => t.close());

const DAY = 24 * 3600 * 1000;

/** The value of bz_attr after clicking /l/:code, sending `cookie` (a previous value) if given. */
async function clickFor(code: string, cookie?: string) {
  const req = request(t.app).get(`/shop/l/${code}`).set("User-Agent", BROWSER_UA);
  if (cookie) req.set("Cookie", `${ATTRIBUTION_COOKIE}=${cookie}`);
  const res = await req.expect(302);
  const header = cookieNamed(res, ATTRIBUTION_COOKIE);
  return header ? header.split(";")[0]!.split("=")[1]! : undefined;
}

/** A request as checkout would see it, after cookie-parser. */
function shopperRequest(value: string | undefined): Request {
  const cookies = value === undefined ? {} : { [ATTRIBUTION_COOKIE]: value };
  return { cookies, get: () => undefined } as unknown as Request;
}

describe("readAttribution", () => {
  it("credits the clicked link, its post, live session and channel, within 7 days", async () => {
    const post = await createPost(t.deps);
    const live = await createLiveSession(t.deps);
    const product = await createProduct(t.deps);
    const postLink = await createLink(t.deps, { code: "attr-post", targetType: "post", postId: post.id, channel: "instagram-story" });
    const liveLink = await t.db.shortLink.create({ data: { code: "attr-live", targetType: "product", productId: product.id, liveSessionId: live.id, channel: "tiktok-live" } });

    clock = new Date("2026-11-20T12:00:00Z");
    const first = await clickFor("attr-post");
    expect(await readAttribution(t.deps, shopperRequest(first))).toEqual({
      linkId: postLink.id,
      postId: post.id,
      liveSessionId: null,
      channel: "instagram-story",
      visitorId: first!.split(".")[1],
    });

    // Last click wins, and the browser keeps its visitor id.
    clock = new Date("2026-11-21T09:00:00Z");
    const second = await clickFor("attr-live", first);
    const credited = await readAttribution(t.deps, shopperRequest(second));
    expect(credited).toMatchObject({ linkId: liveLink.id, postId: null, liveSessionId: live.id, channel: "tiktok-live" });
    expect(credited!.visitorId).toBe(first!.split(".")[1]);

    // Still good just inside 7 days after the last click, gone just after.
    clock = new Date(new Date("2026-11-21T09:00:00Z").getTime() + 7 * DAY);
    expect(await readAttribution(t.deps, shopperRequest(second))).not.toBeNull();
    clock = new Date(new Date("2026-11-21T09:00:00Z").getTime() + 7 * DAY + 1000);
    expect(await readAttribution(t.deps, shopperRequest(second))).toBeNull();
  });

  it("cannot be forged: another visitor's click, a made-up id or a malformed cookie give nothing", async () => {
    clock = new Date("2026-11-22T10:00:00Z");
    const product = await createProduct(t.deps);
    await createLink(t.deps, { code: "attr-victim", targetType: "product", productId: product.id, channel: "influencer" });
    await createLink(t.deps, { code: "attr-mine", targetType: "product", productId: product.id, channel: "bio" });
    const victims = await clickFor("attr-victim");
    const mine = await clickFor("attr-mine");
    const [victimClick, victimVisitor] = victims!.split(".");
    const [, myVisitor] = mine!.split(".");

    // A shopper who learns (or guesses) someone's click id still lacks that visitor's secret half.
    expect(await readAttribution(t.deps, shopperRequest(`${victimClick}.${myVisitor}`))).toBeNull();
    expect(await readAttribution(t.deps, shopperRequest(`c${"0".repeat(24)}.${victimVisitor}`))).toBeNull();
    for (const junk of ["", "nodot", `${victimClick}.`, `.${victimVisitor}`, `${victimClick}.${victimVisitor}x`, `${victimClick}.short`, "'; DROP TABLE LinkClick; --.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]) {
      expect(await readAttribution(t.deps, shopperRequest(junk)), junk).toBeNull();
    }
    expect(await readAttribution(t.deps, shopperRequest(undefined))).toBeNull();
    // The genuine cookie still works.
    expect((await readAttribution(t.deps, shopperRequest(victims)))?.channel).toBe("influencer");
  });

  it("reads the Cookie header itself when cookie-parser has not run, and forgets deleted links", async () => {
    clock = new Date("2026-11-23T10:00:00Z");
    const product = await createProduct(t.deps);
    const link = await createLink(t.deps, { code: "attr-raw", targetType: "product", productId: product.id, channel: "whatsapp" });
    const value = await clickFor("attr-raw");
    const raw = { get: (name: string) => (name.toLowerCase() === "cookie" ? `bz_lang=en; ${ATTRIBUTION_COOKIE}=${value}; other=1` : undefined) } as unknown as Request;
    expect((await readAttribution(t.deps, raw))?.linkId).toBe(link.id);
    await t.db.shortLink.delete({ where: { id: link.id } });
    expect(await readAttribution(t.deps, raw)).toBeNull();
  });

  it("is not set by bots, so a link preview never steals the credit", async () => {
    const product = await createProduct(t.deps);
    await createLink(t.deps, { code: "attr-bot", targetType: "product", productId: product.id });
    const res = await request(t.app).get("/shop/l/attr-bot").set("User-Agent", "WhatsApp/2.23.20.0 A").expect(302);
    expect(cookieNamed(res, ATTRIBUTION_COOKIE)).toBeUndefined();
  });
});
