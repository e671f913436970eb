import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailSender } from "../src/mail/sender.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { payLocally } from "./helpers/orders.js";
import { newShopper } from "./helpers/shopper.js";

/** A sender that is never reached in these tests: only whether one is configured matters to the pages. */
const unusedSender: MailSender = {
  description: "SMTP relay.example.com:587",
  send: () => Promise.reject(new Error("not used in this test")),
  close: async () => {},
};

let quiet: TestApp;
let sending: TestApp;
beforeAll(async () => {
  quiet = await buildTestApp();
  sending = await buildTestApp({ publicUrl: "https://shop.example.com/shop", mail: { sender: unusedSender, from: "shop@example.com" } });
});
afterAll(async () => {
  await quiet.close();
  await sending.close();
});

async function follow(t: TestApp, lang = "en") {
  const shopper = await newShopper(t.app);
  const page = await shopper.agent.get(`/shop/follow?lang=${lang}`).expect(200);
  const res = await shopper.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: "tiktok", handle: `h${Date.now()}${Math.random().toString(36).slice(2, 6)}`, email: "f@example.com", consent: "on" }).expect(200);
  const signin = await shopper.agent.post("/shop/follow/signin").type("form").send({ _csrf: csrfFrom(page.text), email: "f@example.com" }).expect(200);
  return { follow: load(res.text), signin: load(signin.text), page: load(page.text) };
}

describe("pages tell the truth about email", () => {
  it("with no sender, no page says an email was sent: follow, follower sign-in, order confirmation; the admin points to the outbox", async () => {
    const { follow: f, signin, page } = await follow(quiet);
    expect(f("#follow-sent").text()).toContain("this shop does not send email yet");
    expect(f("#follow-sent").text()).not.toMatch(/check your inbox|we sent/i);
    expect(signin("#signin-sent").text()).toBe("This shop does not send email yet, so no sign-in link was sent.");
    expect(page("#signin-title").parent().text()).toContain("this shop does not send email yet");
    const fa = await follow(quiet, "fa");
    expect(fa.follow("#follow-sent").text()).toContain("این فروشگاه هنوز ایمیل نمی‌فرستد");

    const p = await createProduct(quiet.deps);
    const { order, shopper, key } = await payLocally(quiet.app, quiet.deps, p.variants[0]!.id);
    const confirmation = load((await shopper.agent.get(`/shop/orders/${order.id}?key=${encodeURIComponent(key)}`).expect(200)).text);
    expect(confirmation("main").text()).not.toMatch(/confirmation (was|is on its way)/i);
    expect(confirmation("#order-no-email").text()).toContain("does not send email yet");

    const who = await createAdmin(quiet.deps);
    const admin = request.agent(quiet.app);
    await signIn(admin, who.email, who.password);
    const dash = load((await admin.get("/shop/admin").expect(200)).text);
    expect(dash("#email-not-sent-banner").text()).toContain("This shop does not send email yet.");
    expect(dash("#email-not-sent-banner a").attr("href")).toBe("/shop/admin/outbox");
    const outbox = load((await admin.get("/shop/admin/outbox").expect(200)).text);
    expect(outbox("#outbox-not-sending").text()).toContain("nothing here has left the shop");
    const requests = load((await admin.get("/shop/admin/reviews/requests").expect(200)).text);
    expect(requests("#requests-not-sent").text()).toContain("no buyer receives them");
  });

  it("with a sender, the same pages say the email is on its way, and nothing says it is not sent", async () => {
    const { follow: f, signin } = await follow(sending);
    expect(f("#follow-sent").text()).toContain("We are emailing a confirmation link to f@example.com");
    expect(signin("#signin-sent").text()).toContain("a sign-in link is on its way");
    const p = await createProduct(sending.deps);
    const { order, shopper, key } = await payLocally(sending.app, sending.deps, p.variants[0]!.id);
    const confirmation = load((await shopper.agent.get(`/shop/orders/${order.id}?key=${encodeURIComponent(key)}`).expect(200)).text);
    expect(confirmation("main").text()).toContain("A confirmation is on its way to ana@example.com.");
    expect(confirmation("#order-no-email")).toHaveLength(0);
    const who = await createAdmin(sending.deps);
    const admin = request.agent(sending.app);
    await signIn(admin, who.email, who.password);
    expect(load((await admin.get("/shop/admin").expect(200)).text)("#email-not-sent-banner")).toHaveLength(0);
    expect(load((await admin.get("/shop/admin/outbox").expect(200)).text)(".lead").text()).toContain("Sending through SMTP relay.example.com:587");
  });

  it("a sender without a public URL is refused: links in emails are never built from a request's Host header", async () => {
    await expect(buildTestApp({ mail: { sender: unusedSender, from: "shop@example.com" } })).rejects.toThrow(/publicUrl: required with mail/);
  });

  it("without a public URL, follow links are relative to the shop (not the request's Host), and the outbox shows them against the admin's address", async () => {
    const shopper = await newShopper(quiet.app);
    const page = await shopper.agent.get("/shop/follow").expect(200);
    await shopper.agent.post("/shop/follow").set("Host", "evil.example").type("form").send({ _csrf: csrfFrom(page.text), platform: "instagram", handle: "hosty", email: "hosty@example.com", consent: "on" }).expect(200);
    const mail = await quiet.db.outboxEmail.findFirstOrThrow({ where: { to: "hosty@example.com" } });
    expect(mail.text).not.toContain("evil.example");
    expect(mail.text).toMatch(/^\/follow\/confirm\?token=\S+$/m);
    expect(load(mail.html!)("a").first().attr("href")).toMatch(/^\/follow\/confirm\?token=/);
    const who = await createAdmin(quiet.deps);
    const admin = request.agent(quiet.app);
    await signIn(admin, who.email, who.password);
    const shown = load((await admin.get(`/shop/admin/outbox/${mail.id}`).expect(200)).text);
    const link = shown('a[href*="/follow/confirm?token="]').attr("href")!;
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1(:\d+)?\/shop\/follow\/confirm\?token=/);
    const u = new URL(link);
    await shopper.agent.get(u.pathname + u.search).expect(200);
    expect((await quiet.db.follower.findFirstOrThrow({ where: { handleKey: "hosty" } })).status).toBe("active");
  });
});
