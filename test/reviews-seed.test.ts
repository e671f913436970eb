import { afterAll, beforeAll, expect, it } from "vitest";
import { seedDemoShop } from "../src/seed/demo.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { recount, summaryOf } from "./helpers/reviews.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

it("the demo shop's reviews are published through the summary's status move, so every summary matches a recount", async () => {
  expect(await seedDemoShop(t.deps)).toBe(true);
  const reviewed = await t.db.review.groupBy({ by: ["productId"], _count: { _all: true } });
  expect(reviewed.length).toBeGreaterThan(0);
  for (const { productId } of reviewed) expect(await summaryOf(t, productId)).toEqual(await recount(t, productId));
  const reviews = await t.db.review.findMany();
  expect(reviews.every((r) => r.status === "published" && r.publishedAt?.getTime() === r.createdAt.getTime())).toBe(true);
});
