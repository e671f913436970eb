import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { newShopper } from "./helpers/shopper.js";

let t: TestApp;
let admin: TestAgent;
beforeAll(async () => {
  t = await buildTestApp();
  const who = await createAdmin(t.deps);
  admin = request.agent(t.app);
  await signIn(admin, who.email, who.password);
});
afterAll(() => t.close());

describe("admin outbox", () => {
  it("lists queued emails and shows one with its links, so the follow link can be opened without SMTP", async () => {
    const shopper = await newShopper(t.app);
    const page = await shopper.agent.get("/shop/follow");
    await shopper.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: "instagram", handle: "outbox.reader", email: "reader@example.com", consent: "on" }).expect(200);
    const list = await admin.get("/shop/admin/outbox").expect(200);
    const row = load(list.text)("tbody tr").filter((_, el) => load(list.text)(el).text().includes("reader@example.com"));
    expect(row.text()).toContain("Confirm that you follow Test Shop");
    const href = row.find("a").attr("href")!;
    const email = await admin.get(href).expect(200);
    const link = load(email.text)('a[href*="/follow/confirm?token="]').attr("href")!;
    expect(load(email.text)("#email-text").text()).toContain(link);
    const u = new URL(link);
    await shopper.agent.get(u.pathname + u.search).expect(200);
    expect((await t.db.follower.findFirstOrThrow({ where: { handleKey: "outbox.reader" } })).status).toBe("active");
  });

  it("is for admins only", async () => {
    await request(t.app).get("/shop/admin/outbox").expect(303);
    await admin.get("/shop/admin/outbox/nope").expect(404);
  });
});
