import { flushEvents } from "../src/analytics/events.js";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct } from "./helpers/factories.js";
import { createLink, createPost } from "./helpers/post-factories.js";
import { newShopper } from "./helpers/shopper.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe("orders are credited to the tracked link the shopper came through", () => {
  it("a click on a post's link, then a checkout: the order carries link, post and channel", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 5 }] });
    const post = await createPost(t.deps, {});
    const link = await createLink(t.deps, { targetType: "product", productId: p.id, postId: post.id, channel: "instagram-story" });
    const shopper = await newShopper(t.app);
    await shopper.agent.get(`/shop/l/${link.code}`).set("User-Agent", "Mozilla/5.0 (iPhone) Safari").expect(302);
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    const started = await shopper.checkout().set("Accept", "application/json").expect(201);
    const order = await t.db.order.findUniqueOrThrow({ where: { id: started.body.data.orderId } });
    expect(order).toMatchObject({ linkId: link.id, postId: post.id, channel: "instagram-story" });
    expect(order.visitorId).toBeTruthy();
    await flushEvents(t.deps);
    const event = await t.db.analyticsEvent.findFirstOrThrow({ where: { type: "checkout_start", orderId: order.id } });
    expect(event.linkId).toBe(link.id);
  });

  it("without a click, or with a forged cookie, the order is not credited", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 5 }] });
    const shopper = await newShopper(t.app);
    shopper.agent.jar.setCookie("bz_attr=abcdefghijklmnop.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "127.0.0.1", "/shop");
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    const started = await shopper.checkout().set("Accept", "application/json").expect(201);
    const order = await t.db.order.findUniqueOrThrow({ where: { id: started.body.data.orderId } });
    expect(order).toMatchObject({ linkId: null, postId: null, channel: null });
    await request(t.app).get("/shop/").expect(200);
  });
});
