import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJobOnce } from "../../src/jobs/scheduler.js";
import { outboxSenderJob } from "../../src/mail/mail.jobs.js";
import { queueEmail } from "../../src/mail/outbox.service.js";
import { createSmtpSender } from "../../src/mail/sender.js";
import { ownerNotificationsJob } from "../../src/notifications/notifications.jobs.js";
import { accessibilityViolations, screenshot, useBrowserShop } from "../helpers/browser.js";
import { createProduct } from "../helpers/factories.js";
import { startSmtp, type Smtp } from "../helpers/smtp.js";

let smtp: Smtp;
let failedId: string;
const sender = { current: null as ReturnType<typeof createSmtpSender> | null };

// Registered before the shop's fixture: the SMTP server starts first and stops last.
beforeAll(async () => {
  smtp = await startSmtp({ onRcpt: (a) => (a === "gone@example.com" ? { code: 550, message: "5.1.1 No such user here" } : undefined) });
  sender.current = createSmtpSender(smtp.url);
});
afterAll(async () => {
  await sender.current?.close();
  await smtp?.close();
});

const shop = useBrowserShop({
  app: () => ({ shopName: "Bazaarche Demo", publicUrl: "http://shop.test/shop", mail: { sender: sender.current!, from: "Bazaarche Demo <shop@example.com>" } }),
  seed: async (t) => {
    await createProduct(t.deps, { title: "Kilim Cushion", variants: [{ sku: "KILIM-1", stock: 1 }] });
    await runJobOnce(t.deps, ownerNotificationsJob);
    await t.db.$transaction(async (tx) => {
      await queueEmail(tx, { to: "mina@example.com", subject: "Order #1042 confirmed", template: "order_confirmation", dedupeKey: "b-1", locale: "fa", linkBase: "http://shop.test/shop", data: { shopName: "Bazaarche Demo", number: 1042, currency: "USD", lines: [{ quantity: 1, title: "Kilim Cushion", variantTitle: "", totalMinor: 4500 }], subtotalMinor: 4500, discountMinor: 0, shippingMinor: 500, totalMinor: 5000 } });
      await queueEmail(tx, { to: "gone@example.com", subject: "Confirm that you follow Bazaarche Demo", template: "follow_confirm", dedupeKey: "b-2", locale: "en", linkBase: "http://shop.test/shop", data: { shopName: "Bazaarche Demo", handle: "gone", platform: "instagram", confirmUrl: "http://shop.test/shop/follow/confirm?token=abc", days: 7 } });
      await queueEmail(tx, { to: "later@example.com", subject: "How was your order #1041?", text: "Review link: http://shop.test/shop/reviews/write/x", template: "review_request", dedupeKey: "b-3", sendAfter: new Date(Date.now() + 7 * 86400_000) });
    });
    await runJobOnce(t.deps, outboxSenderJob, { force: true });
    await runJobOnce(t.deps, ownerNotificationsJob, { force: true });
    failedId = (await t.db.outboxEmail.findUniqueOrThrow({ where: { dedupeKey: "b-2" } })).id;
  },
});

describe.each(["en", "fa"] as const)("admin outbox, jobs and notifications in %s, on a phone", (lang) => {
  it("reads, is accessible at 390 px, and 'retry now' works from the page", async () => {
    // The refused email fails again (the other language's run retried it).
    await runJobOnce(shop.t.deps, outboxSenderJob, { force: true });
    const { page, problems } = await shop.openAdmin(lang, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });

    await page.goto(`${shop.origin}/shop/admin/outbox?lang=${lang}`);
    expect(await page.getAttribute("html", "dir")).toBe(lang === "fa" ? "rtl" : "ltr");
    await page.locator(`tr[data-email="${failedId}"]`).waitFor();
    expect(await page.locator(`tr[data-email="${failedId}"] .mail-error`).innerText()).toContain("550 5.1.1 No such user here");
    expect(await accessibilityViolations(page)).toEqual([]);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await screenshot(page, `admin-outbox-390-${lang}`);

    await page.goto(`${shop.origin}/shop/admin/outbox/${failedId}?lang=${lang}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, `admin-outbox-email-390-${lang}`);
    await Promise.all([page.waitForURL(/retried=1/), page.locator('form[action$="/retry"] button').click()]);
    await expect.poll(() => page.locator("#email-status").innerText()).toMatch(/Queued|در صف/);

    await page.goto(`${shop.origin}/shop/admin/jobs?lang=${lang}`);
    await page.locator('tr[data-job="mail.outbox"]').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, `admin-jobs-390-${lang}`);

    await page.goto(`${shop.origin}/shop/admin/settings/notifications?lang=${lang}`);
    await page.locator("#notification-settings").waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.locator('input[name="delivery"][value="digest"]').check();
    await Promise.all([page.waitForURL(/saved=1/), page.locator('#notification-settings button[type="submit"]').click()]);
    await expect.poll(() => page.locator('input[name="delivery"][value="digest"]').isChecked()).toBe(true);
    await screenshot(page, `admin-notifications-390-${lang}`);
    await page.locator('input[name="delivery"][value="each"]').check();
    await Promise.all([page.waitForURL(/saved=1/), page.locator('#notification-settings button[type="submit"]').click()]);

    expect(problems).toEqual({ console: [], csp: [] });
  });
});
