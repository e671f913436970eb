import { spawn } from "node:child_process";
import path from "node:path";
import request from "supertest";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runJobOnce } from "../src/jobs/scheduler.js";
import { outboxSenderJob } from "../src/mail/mail.jobs.js";
import { queueEmail, retryDelayMs, sendDueEmails } from "../src/mail/outbox.service.js";
import { createSmtpSender } from "../src/mail/sender.js";
import { issuePersonalCodes } from "../src/coupons/coupons.service.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, createToken } from "./helpers/factories.js";
import { makeCoupon } from "./helpers/followers.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { buy, reviewLinkOf, setSettings, visitor } from "./helpers/reviews.js";
import { newShopper } from "./helpers/shopper.js";
import { linksIn, startSmtp, type Reply, type Smtp } from "./helpers/smtp.js";

const PUBLIC = "http://shop.test/shop";
const FROM = "Test Shop <shop@example.com>";
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A shop that sends through a real SMTP server in this process, with a clock the test moves. */
async function mailingShop(smtpOptions: Parameters<typeof startSmtp>[0] = {}, mail: { maxAttempts?: number; leaseMs?: number } = {}) {
  const smtp = await startSmtp(smtpOptions);
  const clock = { now: Date.parse("2026-11-20T10:00:00Z") };
  const sender = createSmtpSender(smtp.url, { connectionTimeoutMs: 3000, socketTimeoutMs: 5000 });
  const t = await buildTestApp({ trustProxy: 1, publicUrl: PUBLIC, now: () => new Date(clock.now), mail: { sender, from: FROM, ...mail } });
  cleanups.push(() => t.close(), () => sender.close(), () => smtp.close());
  const send = () => runJobOnce(t.deps, outboxSenderJob, { force: true });
  return { smtp, t, clock, send, sender };
}

/** The path (for supertest) of an absolute shop link from an email. */
const pathOf = (link: string) => {
  expect(link.startsWith(`${PUBLIC}/`)).toBe(true);
  const u = new URL(link);
  return u.pathname + u.search;
};

const mailTo = (smtp: Smtp, to: string) => smtp.received.filter((m) => m.envelope.to.includes(to));

describe("email over SMTP, end to end", () => {
  it("a follow (in Persian) sends a real multipart email whose link confirms the follower, and a follower-only code then applies at checkout", async () => {
    const { smtp, t, send } = await mailingShop();
    const p = await createProduct(t.deps, { variants: [{ priceMinor: 4000, stock: 5 }] });
    await makeCoupon(t.deps, { code: "FANS", percentOff: 20, followersOnly: true });

    const shopper = await newShopper(t.app);
    const page = await shopper.agent.get("/shop/follow?lang=fa").expect(200);
    const done = await shopper.agent.post("/shop/follow").type("form").send({ _csrf: csrfFrom(page.text), platform: "instagram", handle: "mina.shop", email: "mina@example.com", consent: "on" }).expect(200);
    // The page says what happens: the shop sends email, so a link is on its way.
    expect(load(done.text)("#follow-sent").text()).toContain("mina@example.com");
    expect(load(done.text)("#follow-sent").hasClass("alert--ok")).toBe(true);

    const outcome = await send();
    expect(outcome).toMatchObject({ ran: true, status: "ok" });
    await smtp.waitFor(1);
    const [mail] = mailTo(smtp, "mina@example.com");
    const m = mail!.parsed;
    expect(mail!.envelope).toEqual({ from: "shop@example.com", to: ["mina@example.com"] });
    expect(m.from?.text).toBe('"Test Shop" <shop@example.com>');
    expect(m.subject).toBe("دنبال‌کردن Test Shop را تأیید کنید");
    expect(m.date).toBeInstanceOf(Date);
    expect(m.messageId).toMatch(/^<[a-z0-9]+@shop\.test>$/);
    // Transactional: no unsubscribe headers.
    expect(m.headers.has("list-unsubscribe")).toBe(false);
    expect(m.headers.has("list-unsubscribe-post")).toBe(false);
    // Both parts, the same link in each, built from PUBLIC_URL.
    expect(mail!.raw).toMatch(/Content-Type: multipart\/alternative/i);
    const html = load(m.html as string);
    expect(html("html").attr("lang")).toBe("fa");
    expect(html("html").attr("dir")).toBe("rtl");
    const textLinks = linksIn(m.text!);
    expect(textLinks).toHaveLength(1);
    expect(html(`a[href="${textLinks[0]}"]`).length).toBeGreaterThanOrEqual(1);
    // The handle is isolated from the Persian sentence around it (bidi isolates), so read it without them.
    expect((m.text ?? "").replace(/[\u200e\u200f\u2066-\u2069]/g, "")).toContain("@mina.shop");

    const row = await t.db.outboxEmail.findFirstOrThrow({ where: { to: "mina@example.com" } });
    expect(row).toMatchObject({ status: "sent", attempts: 1, messageId: m.messageId, locale: "fa", category: "transactional" });
    expect(row.smtpResponse).toMatch(/^250 /);

    // The link opens the right page and confirms the follower in this browser.
    await shopper.agent.get(pathOf(textLinks[0]!)).expect(200);
    expect((await t.db.follower.findFirstOrThrow({ where: { handleKey: "mina.shop" } })).status).toBe("active");
    await shopper.add(p.variants[0]!.id, 1).expect(303);
    const applied = await shopper.agent.post("/shop/cart/coupon").type("form").send({ _csrf: shopper.csrf, code: "FANS" }).set("Accept", "application/json").expect(200);
    expect(JSON.stringify(applied.body)).toContain("FANS");
    const started = await shopper.checkout().set("Accept", "application/json").expect(201);
    const order = await t.db.order.findUniqueOrThrow({ where: { id: started.body.data.orderId } });
    expect(order.discountMinor).toBe(800);

    // A second run sends nothing again.
    await send();
    expect(mailTo(smtp, "mina@example.com")).toHaveLength(1);
  });

  it("a paid, fulfilled order's review request arrives only after its delay, and its link produces a verified review", async () => {
    const { smtp, t, clock, send } = await mailingShop();
    await setSettings(t, { requestsEnabled: true, requestTrigger: "fulfilled", requestDelayDays: 7 });
    const p = await createProduct(t.deps, { title: "Walnut Board" });
    const order = await buy(t, p.variants[0]!.id, { email: "ana@example.com", name: "Ana Rossi" });
    const { token } = await createToken(t.deps);
    await request(t.app).post(`/shop/api/v1/orders/${order.id}/fulfill`).set("Authorization", `Bearer ${token}`).send({}).expect(200);

    await send();
    // The order confirmation went out; the review request waits its 7 days.
    await smtp.waitFor(1);
    expect(mailTo(smtp, "ana@example.com").map((m) => m.parsed.subject)).toEqual([`Order #${order.number} confirmed`]);
    const confirmation = mailTo(smtp, "ana@example.com")[0]!.parsed;
    expect(confirmation.to && "text" in confirmation.to ? confirmation.to.text : "").toBe('"Ana Rossi" <ana@example.com>');
    expect(confirmation.text).toContain("Walnut Board");
    expect(confirmation.html).toContain("Walnut Board");

    // The admin's list of requests reports delivery from the outbox: waiting until really sent.
    const requestState = async () => {
      const res = await request(t.app).get("/shop/api/v1/reviews/requests").set("Authorization", `Bearer ${token}`).expect(200);
      return (res.body.data as { orderId: string; emailStatus: string; emailSentAt: string | null }[]).find((r) => r.orderId === order.id);
    };
    expect(await requestState()).toMatchObject({ emailStatus: "queued", emailSentAt: null });
    clock.now += 6 * 24 * 3600_000;
    await send();
    expect(mailTo(smtp, "ana@example.com")).toHaveLength(1);
    clock.now += 24 * 3600_000 + 1000;
    await send();
    await smtp.waitFor(2);
    expect(await requestState()).toMatchObject({ emailStatus: "sent", emailSentAt: new Date(clock.now).toISOString() });
    const reviewMail = mailTo(smtp, "ana@example.com")[1]!.parsed;
    expect(reviewMail.subject).toBe(`How was your order #${order.number} from Test Shop?`);
    expect(reviewMail.headers.has("list-unsubscribe")).toBe(false);
    const link = linksIn(reviewMail.text!).find((l) => l.includes("/reviews/write/"))!;
    expect(load(reviewMail.html as string)(`a[href="${link}"]`).length).toBeGreaterThanOrEqual(1);
    expect(link).toBe(`${PUBLIC}/reviews/write/${(await reviewLinkOf(t, order.id)).token}`);

    const v = await visitor(t);
    const form = await v.agent.get(pathOf(link)).expect(200);
    const line = order.lines[0]!;
    const action = load(form.text)(`#line-${line.id} form`).attr("action")!;
    await v.agent.post(action).field("orderLineId", line.id).field("rating", "4").field("body", "Solid board, oils up nicely.").field("displayName", "Ana R.").expect(303);
    expect(await t.db.review.findFirstOrThrow({ where: { productId: p.id } })).toMatchObject({ verifiedBuyer: true, source: "request", orderId: order.id });
  });

  it("marketing mail (a personal code) carries one-click List-Unsubscribe; after a one-click POST the next offer is not sent", async () => {
    const { smtp, t, send } = await mailingShop();
    const follower = await t.db.follower.create({
      data: { platform: "instagram", handle: "lena", handleKey: "lena", personKey: "pk-lena", email: "lena@example.com", emailKey: "k-lena", status: "active", emailConfirmedAt: new Date(), followedAt: new Date(), locale: "en" },
    });
    const first = await makeCoupon(t.deps, { code: "LENA1", percentOff: 10, followersOnly: true, description: "10% off anything" });
    const issued = await issuePersonalCodes(t.deps, { couponId: first.id, filter: { followerIds: [follower.id], limit: 10, notify: true }, actor: { type: "system" } });
    expect(issued).toEqual([expect.objectContaining({ emailQueued: true, emailed: true })]);
    await send();
    await smtp.waitFor(1);
    const m = mailTo(smtp, "lena@example.com")[0]!.parsed;
    expect(m.subject).toBe("A code just for you from Test Shop");
    // Headers as a reader sees them: long ones are folded onto the next line (RFC 5322).
    const raw = mailTo(smtp, "lena@example.com")[0]!.raw.replace(/\r?\n[ \t]+/g, " ");
    const unsubscribe = /^List-Unsubscribe: <([^>]+)>\r?$/im.exec(raw)![1]!;
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/im);
    expect(unsubscribe).toMatch(new RegExp(`^${PUBLIC}/email/unsubscribe/[A-Za-z0-9_-]{20,}$`));
    expect(m.text).toMatch(/LENA1-[A-Z2-9]{12}/);
    expect(m.text).toContain(unsubscribe);
    expect(load(m.html as string)(`a[href="${unsubscribe}"]`)).toHaveLength(1);

    // GET only shows a button (link scanners open URLs); the mail client's POST unsubscribes, with no cookie or CSRF token.
    const shown = await request(t.app).get(pathOf(unsubscribe)).expect(200);
    expect(load(shown.text)("form button").text()).toBe("Unsubscribe");
    expect(await t.db.emailSuppression.count()).toBe(0);
    const posted = await request(t.app).post(pathOf(unsubscribe)).type("form").send("List-Unsubscribe=One-Click").expect(200);
    expect(load(posted.text)("#unsubscribed").text()).toContain("l…@example.com");
    await request(t.app).post(pathOf(unsubscribe)).type("form").send("List-Unsubscribe=One-Click").expect(200);
    expect(await t.db.emailSuppression.count()).toBe(1);
    await request(t.app).post("/shop/email/unsubscribe/forged-token-forged-token-0000").expect(404);

    const second = await makeCoupon(t.deps, { code: "LENA2", percentOff: 15, followersOnly: true });
    await issuePersonalCodes(t.deps, { couponId: second.id, filter: { followerIds: [follower.id], limit: 10, notify: true }, actor: { type: "system" } });
    await send();
    expect(mailTo(smtp, "lena@example.com")).toHaveLength(1);
    const suppressed = await t.db.outboxEmail.findFirstOrThrow({ where: { dedupeKey: `personal-code:${second.id}:${follower.id}` } });
    expect(suppressed.status).toBe("suppressed");
  });

  it("a feature's text-only email (a live-show reminder) still goes out as multipart in its language, as marketing mail with one-click unsubscribe", async () => {
    const { smtp, t, send } = await mailingShop();
    // As the live-shopping feature queues it: text only, the existing queueEmail fields plus a locale.
    await t.db.$transaction((tx) =>
      queueEmail(tx, { to: "viewer@example.com", subject: "نمایش زنده تا یک ساعت دیگر", text: "نمایش زنده ساعت ۱۹ شروع می‌شود.\nتماشا: /live/fri", template: "live.reminder", dedupeKey: "live:fri:viewer", locale: "fa" }),
    );
    await send();
    await smtp.waitFor(1);
    const mail = mailTo(smtp, "viewer@example.com")[0]!;
    const raw = mail.raw.replace(/\r?\n[ \t]+/g, " ");
    expect(raw).toMatch(/^List-Unsubscribe: <http:\/\/shop\.test\/shop\/email\/unsubscribe\/[A-Za-z0-9_-]+>\r?$/m);
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const html = load(mail.parsed.html as string);
    expect(html("html").attr("dir")).toBe("rtl");
    // The relative link was made absolute from PUBLIC_URL at send time, in both parts.
    expect(html('a[href="http://shop.test/shop/live/fri"]')).toHaveLength(1);
    expect(mail.parsed.text).toContain("http://shop.test/shop/live/fri");
    expect(mail.parsed.text).toMatch(/لغو اشتراک این ایمیل‌ها: http:\/\/shop\.test\/shop\/email\/unsubscribe\//);
    expect(await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "live:fri:viewer" } })).toMatchObject({ category: "marketing", status: "sent" });
  });

  it("line breaks in a subject or name cannot add headers, an address no server takes is recorded as failed, a huge body is cut: all recorded, none lost", async () => {
    const { smtp, t, send } = await mailingShop();
    await t.db.$transaction(async (tx) => {
      await queueEmail(tx, { to: "sam@example.com", toName: "Sam\r\nBcc: victim@example.com", subject: "Hello\r\nBcc: victim@example.com", text: "Hi Sam", template: "test.injection", dedupeKey: "inj-1" });
      await queueEmail(tx, { to: "bad\r\nRCPT TO:<victim@example.com>@example.com", subject: "x", text: "x", template: "test.bad", dedupeKey: "inj-2" });
      await queueEmail(tx, { to: "big@example.com", subject: "Big", text: "word ".repeat(300_000), template: "test.big", dedupeKey: "inj-3" });
    });
    await send();
    await smtp.waitFor(2);
    expect(smtp.received.flatMap((m) => m.envelope.to).sort()).toEqual(["big@example.com", "sam@example.com"]);
    const sam = mailTo(smtp, "sam@example.com")[0]!;
    expect(sam.parsed.subject).toBe("Hello Bcc: victim@example.com");
    expect(sam.parsed.bcc).toBeUndefined();
    expect(sam.raw).not.toMatch(/^Bcc:/im);
    const rows = Object.fromEntries((await t.db.outboxEmail.findMany({ where: { dedupeKey: { startsWith: "inj-" } } })).map((r) => [r.dedupeKey, r]));
    expect(rows["inj-1"]!.notes).toMatch(/subject contained line breaks/);
    expect(rows["inj-1"]!.notes).toMatch(/recipient name contained line breaks/);
    expect(rows["inj-2"]).toMatchObject({ status: "failed", attempts: 0 });
    expect(rows["inj-2"]!.lastError).toMatch(/not an email address/);
    expect(rows["inj-3"]!.status).toBe("sent");
    expect(rows["inj-3"]!.notes).toMatch(/text part was \d+ characters; cut to 100000/);
    expect(mailTo(smtp, "big@example.com")[0]!.parsed.text!.length).toBeLessThan(101_000);
  });
});

describe("delivery faults", () => {
  it("authenticates with the user and password in SMTP_URL; a wrong password is the shop's configuration, so the email waits and retries instead of failing", async () => {
    const { smtp, t, send } = await mailingShop({ auth: { user: "shop", pass: "s3cret" } });
    expect(smtp.url).toMatch(/^smtp:\/\/shop:s3cret@127\.0\.0\.1:\d+$/);
    await t.db.$transaction((tx) => queueEmail(tx, { to: "authed@example.com", subject: "Authed", text: "Hello", template: "test.auth", dedupeKey: "auth-ok" }));
    await send();
    await smtp.waitFor(1);
    expect(await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "auth-ok" } })).toMatchObject({ status: "sent" });

    const wrong = createSmtpSender(smtp.url.replace("s3cret", "wrong"));
    cleanups.push(() => wrong.close());
    const other = await buildTestApp({ publicUrl: PUBLIC, mail: { sender: wrong, from: FROM } });
    cleanups.push(() => other.close());
    await other.db.$transaction((tx) => queueEmail(tx, { to: "authed@example.com", subject: "Wrong password", text: "Hello", template: "test.auth", dedupeKey: "auth-bad" }));
    await runJobOnce(other.deps, outboxSenderJob, { force: true });
    const row = await other.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "auth-bad" } });
    expect(row).toMatchObject({ status: "queued", attempts: 1 });
    expect(row.lastError).toMatch(/535/);
    expect(row.nextAttemptAt).not.toBeNull();
  });


  it("server down, then back: the email waits out its backoff and is sent later, once", async () => {
    const { smtp, t, clock, send } = await mailingShop();
    await smtp.close();
    await t.db.$transaction((tx) => queueEmail(tx, { to: "later@example.com", subject: "Later", text: "Hello", template: "test.later", dedupeKey: "later" }));
    await send();
    let row = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "later" } });
    expect(row).toMatchObject({ status: "queued", attempts: 1 });
    expect(row.lastError).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
    expect(row.nextAttemptAt!.getTime()).toBeGreaterThan(clock.now);
    expect(row.nextAttemptAt!.getTime()).toBeLessThanOrEqual(clock.now + 60_000);

    await smtp.start();
    await send(); // still backing off: nothing is sent yet
    expect(smtp.received).toHaveLength(0);
    clock.now = row.nextAttemptAt!.getTime() + 1;
    await send();
    await smtp.waitFor(1);
    await send();
    expect(smtp.received).toHaveLength(1);
    row = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "later" } });
    expect(row).toMatchObject({ status: "sent", attempts: 2, lastError: null });
  });

  it("4xx replies are retried with growing, jittered pauses; past the limit the email fails with the server's reply", async () => {
    let tempFails = 2;
    const { smtp, t, clock, send } = await mailingShop({ onData: (): Reply => (tempFails-- > 0 ? { code: 451, message: "4.3.0 Try again later" } : undefined), onRcpt: (a) => (a === "full@example.com" ? { code: 452, message: "4.2.2 Mailbox full" } : undefined) }, { maxAttempts: 3 });
    await t.db.$transaction(async (tx) => {
      await queueEmail(tx, { to: "retry@example.com", subject: "Retry", text: "Hello", template: "test.retry", dedupeKey: "retry" });
    });
    for (let i = 0; i < 3; i++) {
      await send();
      const r = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "retry" } });
      if (r.status === "sent") break;
      expect(r.lastError).toMatch(/451/);
      clock.now = r.nextAttemptAt!.getTime() + 1;
    }
    await smtp.waitFor(1);
    expect(await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "retry" } })).toMatchObject({ status: "sent", attempts: 3 });
    expect(mailTo(smtp, "retry@example.com")).toHaveLength(1);

    await t.db.$transaction((tx) => queueEmail(tx, { to: "full@example.com", subject: "Full", text: "Hello", template: "test.full", dedupeKey: "full" }));
    for (let i = 0; i < 3; i++) {
      await send();
      const r = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "full" } });
      if (r.nextAttemptAt) clock.now = r.nextAttemptAt.getTime() + 1;
    }
    const failed = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "full" } });
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(3);
    expect(failed.lastError).toMatch(/^gave up after 3 attempts: .*452 4\.2\.2 Mailbox full/);

    // The pauses grow and are jittered between half and all of 1, 2, 4 … minutes.
    expect(retryDelayMs(1, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, () => 1)).toBe(60_000);
    expect(retryDelayMs(3, () => 1)).toBe(240_000);
    expect(retryDelayMs(30, () => 1)).toBe(6 * 3600_000);
  });

  it("a 5xx refusal fails the email at once with the server's reply, visible in the admin and the API, and 'retry now' queues it again", async () => {
    let refuse = true;
    const { smtp, t, send } = await mailingShop({ onRcpt: (a) => (a === "nobody@example.com" && refuse ? { code: 550, message: "5.1.1 No such user" } : undefined) });
    await t.db.$transaction((tx) => queueEmail(tx, { to: "nobody@example.com", subject: "Refused", text: "Hello", template: "test.refused", dedupeKey: "refused" }));
    await send();
    const row = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "refused" } });
    expect(row).toMatchObject({ status: "failed", attempts: 1, nextAttemptAt: null });
    expect(row.lastError).toMatch(/550 5\.1\.1 No such user/);
    expect(smtp.received).toHaveLength(0);

    const who = await createAdmin(t.deps);
    const admin = request.agent(t.app);
    await signIn(admin, who.email, who.password);
    const list = await admin.get("/shop/admin/outbox?status=failed").expect(200);
    const tr = load(list.text)(`tr[data-email="${row.id}"]`);
    expect(tr.attr("data-status")).toBe("failed");
    expect(tr.text()).toContain("550 5.1.1 No such user");
    const detail = await admin.get(`/shop/admin/outbox/${row.id}`).expect(200);
    expect(load(detail.text)("#email-error").text()).toContain("550");
    // "Retry now" is a CSRF-protected POST.
    await admin.post(`/shop/admin/outbox/${row.id}/retry`).type("form").send({}).expect(403);
    await admin.post(`/shop/admin/outbox/${row.id}/retry`).type("form").send({ _csrf: csrfFrom(detail.text) }).expect(303);
    expect(await t.db.outboxEmail.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: "queued", attempts: 0 });
    expect(await t.db.auditLog.count({ where: { action: "outbox.retry", entityId: row.id } })).toBe(1);

    // The JSON API lists the same, and retries too.
    await send();
    const { token } = await createToken(t.deps);
    const api = (method: "get" | "post", p: string) => request(t.app)[method](`/shop/api/v1${p}`).set("Authorization", `Bearer ${token}`);
    const failedList = await api("get", "/outbox?status=failed").expect(200);
    expect(failedList.body.data).toEqual([expect.objectContaining({ id: row.id, status: "failed", attempts: 1, lastError: expect.stringContaining("550"), retryable: true })]);
    await api("get", "/outbox?status=nonsense").expect(400);
    refuse = false;
    const retried = await api("post", `/outbox/${row.id}/retry`).send({}).expect(200);
    expect(retried.body.data).toMatchObject({ id: row.id, status: "queued", attempts: 0 });
    await send();
    await smtp.waitFor(1);
    expect((await api("get", `/outbox/${row.id}`).expect(200)).body.data).toMatchObject({ status: "sent", attempts: 1 });
    expect((await api("post", `/outbox/${row.id}/retry`).send({}).expect(409)).body.error.message).toBe("This email was already sent.");
  });

  it("two workers at once against the same outbox (two processes, and four workers in one): each email is received exactly once", async () => {
    const { smtp, t } = await mailingShop();
    const queue = (prefix: string) =>
      t.db.$transaction(async (tx) => {
        for (let i = 0; i < 40; i++) await queueEmail(tx, { to: `${prefix}${i}@example.com`, subject: `Email ${i}`, text: `Number ${i}`, template: "test.race", dedupeKey: `${prefix}-${i}` });
      });
    // Two worker processes (two app instances) on the same database.
    await queue("p");
    const children = [0, 1].map(() => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "helpers/outbox-worker.ts")], {
        env: { ...process.env, DB_URL: t.url, SMTP_URL: smtp.url, PUBLIC_URL: PUBLIC, LEASE_MS: "60000", BATCH_SIZE: "4" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      return new Promise<{ code: number | null; out: string }>((resolve) => child.once("exit", (code) => resolve({ code, out })));
    });
    const exits = await Promise.all(children);
    expect(exits.map((e) => e.code), exits.map((e) => e.out).join("\n")).toEqual([0, 0]);
    const sentBy = exits.map((e) => JSON.parse(/RESULT (.*)/.exec(e.out)![1]!) as { sent: number });
    expect(sentBy[0]!.sent + sentBy[1]!.sent).toBe(40);
    await smtp.waitFor(40);
    expect(new Set(smtp.received.map((m) => m.parsed.messageId)).size).toBe(40);

    // Four workers in this process, each with its own claims.
    await queue("q");
    const results = await Promise.all([0, 1, 2, 3].map((i) => sendDueEmails(t.deps, { owner: `worker-${i}` })));
    await smtp.waitFor(80);
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(40);
    expect(new Set(smtp.received.map((m) => m.parsed.messageId)).size).toBe(80);
    expect(smtp.received.flatMap((m) => m.envelope.to).sort()).toEqual([...Array.from({ length: 40 }, (_, i) => `p${i}@example.com`), ...Array.from({ length: 40 }, (_, i) => `q${i}@example.com`)].sort());
    expect(await t.db.outboxEmail.count({ where: { template: "test.race", status: "sent", attempts: 1 } })).toBe(80);
  });

  it("a worker killed mid-send leaves its claim; when the lease runs out another worker sends the email, once", async () => {
    let hang = true;
    const { smtp, t, clock, send } = await mailingShop({ onData: () => (hang ? "hang" : undefined) });
    await t.db.$transaction((tx) => queueEmail(tx, { to: "dies@example.com", subject: "Mid-send", text: "Hello", template: "test.dies", dedupeKey: "dies" }));
    const dataStarted = smtp.nextData();
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "helpers/outbox-worker.ts")], {
      env: { ...process.env, DB_URL: t.url, SMTP_URL: smtp.url, PUBLIC_URL: PUBLIC, LEASE_MS: "60000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    await dataStarted; // the child is inside DATA: the message is on the wire
    child.kill("SIGKILL");
    await exited;
    hang = false;

    const claimed = await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "dies" } });
    expect(claimed).toMatchObject({ status: "queued", attempts: 1 });
    expect(claimed.leaseOwner).toMatch(/^child-worker:/);
    // The child claimed with the real clock; the test's clock stands just before its lease runs out.
    clock.now = claimed.leaseUntil!.getTime() - 1000;
    await send();
    expect(smtp.received).toHaveLength(0);
    clock.now = claimed.leaseUntil!.getTime() + 1;
    await send();
    await smtp.waitFor(1);
    await send();
    expect(smtp.received).toHaveLength(1);
    expect(await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "dies" } })).toMatchObject({ status: "sent", attempts: 2 });
  });
});
