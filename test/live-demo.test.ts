import request from "supertest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { seedDemoShop } from "../src/seed/demo.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { load } from "./helpers/html.js";
import { BROWSER_UA } from "./helpers/post-factories.js";

/** Issue 11: the demo shop has a scheduled show (with a tracked link) and an ended one with a replay and chapters. */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
  expect(await seedDemoShop(t.deps)).toBe(true);
});
afterAll(() => t.close());

it("shows the scheduled show with its countdown and lineup, reachable through its tracked link", async () => {
  const click = await request(t.app).get("/shop/l/friday-live").set("User-Agent", BROWSER_UA).expect(302);
  expect(click.headers.location).toBe("/shop/live/friday-live");
  const $ = load((await request(t.app).get("/shop/live/friday-live").expect(200)).text);
  expect($(".live-badge").first().text()).toBe("Coming up");
  expect($("[data-starts]").text()).toMatch(/^Starts in 2 d/);
  expect($("[data-lineup]").length).toBe(4);
  expect($("[data-pin]").text()).toContain("Comment “sold” and the code");
});

it("shows the ended show as a replay with a chapter per featured product, buyable at regular prices", async () => {
  const $ = load((await request(t.app).get("/shop/live/winter-textiles?lang=fa").expect(200)).text);
  expect($(".live-badge").first().text()).toBe("بازپخش");
  expect($(".live-chapters li .live-chapters__time").map((_, el) => $(el).text()).get()).toEqual(["۰:۰۰", "۶:۴۰", "۱۹:۰۵", "۳۱:۳۰"]);
  expect($(".live-chapters li a[data-seek]").eq(2).attr("href")).toBe("https://www.youtube.com/watch?v=bazaarche-demo&t=1145s");
  expect($("[data-lineup] a").first().attr("href")).toBe("/shop/p/kilim-cushion-cover");
});
