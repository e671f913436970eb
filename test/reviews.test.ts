import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createProduct, testImage } from "./helpers/factories.js";
import { load } from "./helpers/html.js";
import { adminClients, goodReview, postReviewForm, postReviewJson, recount, setSettings, summaryOf, visitor } from "./helpers/reviews.js";

let t: TestApp;
let clients: Awaited<ReturnType<typeof adminClients>>;
beforeAll(async () => {
  // One proxy hop: each simulated visitor has its own address (see nextIp).
  t = await buildTestApp({ trustProxy: 1 });
  clients = await adminClients(t);
});
afterAll(() => t.close());

const reviewsOf = (productId: string) => t.db.review.findMany({ where: { productId }, include: { photos: { include: { media: true } } }, orderBy: { createdAt: "asc" } });

function jsonLdOf(html: string) {
  const $ = load(html);
  return JSON.parse($('script[type="application/ld+json"]').first().text()) as {
    aggregateRating?: { ratingValue: number; reviewCount: number };
    review?: { author: { name: string }; reviewRating: { ratingValue: number }; reviewBody: string; name?: string }[];
  };
}

describe("writing a review on the product page", () => {
  it("saves rating, title, body, name, locale and up to 5 photos re-encoded without EXIF, and publishes it with the summary", async () => {
    const p = await createProduct(t.deps, { title: "Glazed Mug" });
    const v = await visitor(t);
    const photo = await testImage({ exif: true, color: "#aa3355" });
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const res = await postReviewForm(v, p.slug, goodReview({ rating: 5, email: "mina@example.com" }), [photo, await testImage({ color: "#3355aa" })]);
    expect(res.headers.location).toBe(`/shop/p/${p.slug}?review=published#reviews`);

    const [review] = await reviewsOf(p.id);
    expect(review).toMatchObject({ rating: 5, title: "Lovely glaze", displayName: "Mina K.", email: "mina@example.com", locale: "en", status: "published", verifiedBuyer: false, source: "web", hasPhotos: true });
    expect(review!.photos).toHaveLength(2);
    const files = review!.photos.map((ph) => `${t.dir}/uploads/${ph.media.storageKey}-640.webp`);
    for (const f of files) expect((await sharp(f).metadata()).exif).toBeUndefined();
    expect(await summaryOf(t, p.id)).toEqual({ count: 1, sum: 5, star1: 0, star2: 0, star3: 0, star4: 0, star5: 1 });

    const page = await v.agent.get(`/shop/p/${p.slug}?review=published`).expect(200);
    const $ = load(page.text);
    expect($(".alert--ok").text()).toContain("Your review is on the page");
    expect($(`#review-${review!.id} .review__body`).text()).toBe(review!.body);
    expect($(`#review-${review!.id} .review__photos img`)).toHaveLength(2);
    expect($(".histogram__row").first().text()).toContain("5 stars");
    expect($(".histogram__row").first().text()).toContain("1 (100%)");
    const ld = jsonLdOf(page.text);
    expect(ld.aggregateRating).toMatchObject({ ratingValue: 5, reviewCount: 1 });
    expect(ld.review?.map((r) => r.author.name)).toEqual(["Mina K."]);
  });

  it("records the page's language (Persian) unless the form says otherwise", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    await v.agent.get("/shop/?lang=fa").expect(200);
    await postReviewForm(v, p.slug, goodReview({ body: "رنگش از عکس‌ها زیباتر است و خوب گرم می‌ماند." }));
    expect((await reviewsOf(p.id))[0]!.locale).toBe("fa");
  });

  it("stores markup as text and renders it inert, in the page and in JSON-LD", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const evil = { title: "<b>Bold</b> claim", body: `<script>alert("x")</script><img src=x onerror=alert(1)> fine mug`, displayName: `</script><script>alert(2)</script>` };
    await postReviewForm(v, p.slug, goodReview(evil));
    const stored = (await reviewsOf(p.id))[0]!;
    expect(stored.body).toBe(evil.body);
    const page = await v.agent.get(`/shop/p/${p.slug}`).expect(200);
    const $ = load(page.text);
    // Shown as the characters typed; no element was created from them.
    expect($(".review__body").text()).toBe(evil.body);
    expect($(".review__title").text()).toBe(evil.title);
    expect($(".review script, .review img[onerror], .review b")).toHaveLength(0);
    expect(page.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    // Inside JSON-LD "<" is escaped, so the name cannot close the script element.
    const raw = $('script[type="application/ld+json"]').html()!;
    expect(raw).not.toContain("</script>");
    expect(jsonLdOf(page.text).review?.[0]?.author.name).toBe(evil.displayName);
  });

  it("also takes JSON (with the CSRF header) and answers 201", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const res = await postReviewJson(v, p.slug, { rating: 3, body: "Fine, nothing special about it really.", displayName: "Ola" }).expect(201);
    expect(res.body.data).toMatchObject({ status: "published" });
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(1);
  });

  it("refuses a post without the form's CSRF token", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    await v.agent.post(`/shop/p/${p.slug}/reviews`).set("Accept", "application/json").send({ rating: 3, body: "No token here.", displayName: "Ola" }).expect(403);
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
  });
});

describe("bad input: a 4xx naming the field, and nothing written", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["rating 0", { rating: 0 }, "rating"],
    ["rating 6", { rating: 6 }, "rating"],
    ["rating 4.5", { rating: 4.5 }, "rating"],
    ["rating as text", { rating: "five" }, "rating"],
    ["no rating", { rating: undefined }, "rating"],
    ["empty body", { body: "   " }, "body"],
    ["body over 5000 characters", { body: "a".repeat(5001) }, "body"],
    ["name over 60 characters", { displayName: "n".repeat(61) }, "displayName"],
    ["title over 150 characters", { title: "t".repeat(151) }, "title"],
    ["bad email", { email: "not-an-email" }, "email"],
    ["a verified-buyer badge set by hand", { verifiedBuyer: true }, "(root)"],
    ["an unknown variant", { variantId: "nope" }, "variantId"],
  ];
  it.each(cases)("JSON: %s", async (_name, patch, field) => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const body = { rating: 4, body: "A perfectly fine review text.", displayName: "Ola", ...patch };
    const res = await postReviewJson(v, p.slug, body);
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(res.body.error.message).toMatch(field === "(root)" ? /verifiedBuyer/ : new RegExp(field));
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
    expect(await t.db.ratingSummary.count({ where: { productId: p.id } })).toBe(0);
  });

  it("the HTML form comes back with the problems next to the fields and the typed text kept", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const res = await postReviewForm(v, p.slug, { rating: "4.5", body: "Kept text", displayName: "" }, [], 400);
    const $ = load(res.text);
    expect($("#form-problems").text()).toMatch(/whole number of stars/);
    expect($("#review-body").val()).toBe("Kept text");
    expect($("#review-name").attr("aria-invalid")).toBe("true");
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
  });

  it("a file that is not an image refuses the whole review before any photo is stored", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const mediaBefore = await t.db.media.count();
    const res = await postReviewForm(v, p.slug, goodReview(), [await testImage({ color: "#112233" }), Buffer.from("GIF89a-not-really")], 400);
    expect(load(res.text)("#form-problems").text()).toMatch(/not an image/);
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
    expect(await t.db.media.count()).toBe(mediaBefore);
  });

  it("more than 5 photos is a 400 naming the field", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const img = await testImage();
    const res = await postReviewForm(v, p.slug, goodReview(), [img, img, img, img, img, img], 400, { json: true });
    expect(res.body.error.details[0].field).toBe("photos");
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
  });

  it("reviews of drafts and unknown products are 404", async () => {
    const draft = await createProduct(t.deps, { status: "draft" });
    const v = await visitor(t);
    await postReviewJson(v, draft.slug, { rating: 5, body: "Sneaky early review.", displayName: "X" }).expect(404);
    await postReviewJson(v, "no-such-product", { rating: 5, body: "Nothing here.", displayName: "X" }).expect(404);
  });

  it("rate limits public submission per address: the 11th in 15 minutes is a 429 and writes nothing", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    for (let i = 0; i < 10; i++) await postReviewJson(v, p.slug, { rating: (i % 5) + 1, body: `Review number ${i} of a flood, with some words.`, displayName: "Flo" }).expect(201);
    const res = await postReviewJson(v, p.slug, { rating: 5, body: "One too many reviews from here.", displayName: "Flo" }).expect(429);
    expect(res.body.error.code).toBe("rate_limited");
    expect(await t.db.review.count({ where: { productId: p.id } })).toBe(10);
    // Another address is not affected.
    await postReviewJson(await visitor(t), p.slug, { rating: 2, body: "From somewhere else entirely.", displayName: "Oz" }).expect(201);
  });
});

describe("who can review", () => {
  it("verified-buyers-only refuses web reviews with 403 and says how to review", async () => {
    const p = await createProduct(t.deps);
    await setSettings(t, { whoCanReview: "verified" });
    try {
      const v = await visitor(t);
      const product = await v.agent.get(`/shop/p/${p.slug}`).expect(200);
      expect(load(product.text)(".reviews__score").text()).toMatch(/Reviews come from buyers/);
      expect(load(product.text)(`a[href="/shop/p/${p.slug}/reviews/new"]`)).toHaveLength(0);
      const res = await postReviewJson(v, p.slug, { rating: 5, body: "I did not buy it but love it.", displayName: "X" }).expect(403);
      expect(res.body.error.code).toBe("reviews_verified_only");
      expect(await t.db.review.count({ where: { productId: p.id } })).toBe(0);
    } finally {
      await setSettings(t, { whoCanReview: "anyone" });
    }
  });
});

describe("moderation filters", () => {
  it("censors English and Persian profanity (whole words only) and publishes", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    await postReviewJson(v, p.slug, { rating: 2, body: "This shit cracked. کسی گفت کیر is rude. The assistant was kind.", displayName: "Ann" }).expect(201);
    const r = (await reviewsOf(p.id))[0]!;
    expect(r.status).toBe("published");
    expect(r.body).toBe("This s*** cracked. کسی گفت ک** is rude. The assistant was kind.");
    expect(r.flags).toBe("profanity");
    const audit = await t.db.auditLog.findFirstOrThrow({ where: { entityId: r.id } });
    expect(audit).toMatchObject({ action: "review.censor", rule: "profanity", actorType: "system" });
  });

  it("holds profanity when the setting says hold; holds links, spam and copies; the audit log says which rule", async () => {
    const p = await createProduct(t.deps);
    await setSettings(t, { profanity: "hold" });
    try {
      const v = await visitor(t);
      const texts: [string, string][] = [
        ["profanity", "What a fucking great bowl, honestly the best."],
        ["link", "Buy it cheaper at www.example-shop.com instead."],
        ["spam", "Call me on +1 555 123 4567 for bulk prices."],
      ];
      for (const [, body] of texts) await postReviewJson(v, p.slug, { rating: 5, body, displayName: "Ann" }).expect(201);
      const copy = "Exactly the same words as another review, copied.";
      await postReviewJson(v, p.slug, { rating: 4, body: copy, displayName: "First" }).expect(201);
      await postReviewJson(v, p.slug, { rating: 4, body: `  ${copy.toUpperCase()} `, displayName: "Second" }).expect(201);
      const rows = await reviewsOf(p.id);
      expect(rows.map((r) => [r.status, r.flags])).toEqual([
        ["pending", "profanity"],
        ["pending", "link"],
        ["pending", "spam"],
        ["published", ""],
        ["pending", "duplicate"],
      ]);
      const holds = await t.db.auditLog.findMany({ where: { entityId: { in: rows.map((r) => r.id) }, action: "review.hold" } });
      expect(holds.map((h) => h.rule).sort()).toEqual(["duplicate", "link", "profanity", "spam"]);
      expect(await summaryOf(t, p.id)).toMatchObject({ count: 1, sum: 4 });
    } finally {
      await setSettings(t, { profanity: "censor" });
    }
  });

  it("with auto-publish off every review waits, whatever its rating", async () => {
    const p = await createProduct(t.deps);
    await setSettings(t, { autoPublish: false });
    try {
      const v = await visitor(t);
      for (const rating of [1, 5]) await postReviewJson(v, p.slug, { rating, body: `A calm review with ${rating} stars in it.`, displayName: "Ann" }).expect(201);
      expect((await reviewsOf(p.id)).map((r) => r.status)).toEqual(["pending", "pending"]);
      expect(await summaryOf(t, p.id)).toMatchObject({ count: 0 });
    } finally {
      await setSettings(t, { autoPublish: true });
    }
  });

  it("gives the same decision for the same words whatever the stars, in every setting", async () => {
    const texts = [
      "Solid and well made, I use it daily.",
      "Total shit, broke in a week.",
      "See my video at https://example.com/v",
      "aaaaaaaaaaaa this is spam spam",
      "خیلی خوب است و رنگش همان است که در عکس بود.",
    ];
    const settings = [
      { autoPublish: true, profanity: "censor" as const, links: "hold" as const },
      { autoPublish: true, profanity: "hold" as const, links: "allow" as const },
      { autoPublish: false, profanity: "censor" as const, links: "hold" as const },
    ];
    for (const s of settings) {
      await setSettings(t, s);
      for (const [i, body] of texts.entries()) {
        const decisions = new Set<string>();
        const p = await createProduct(t.deps);
        const v = await visitor(t);
        for (const rating of [1, 2, 3, 4, 5]) {
          const res = await postReviewJson(v, p.slug, { rating, body: `${body} (${i}-${rating})`, displayName: "Same Name" }).expect(201);
          const r = await t.db.review.findUniqueOrThrow({ where: { id: res.body.data.id } });
          decisions.add(JSON.stringify([r.status, r.flags, r.body.replace(/ \(\d-\d\)$/, "")]));
        }
        expect([...decisions], `${JSON.stringify(s)} / ${body}`).toHaveLength(1);
      }
    }
    await setSettings(t, { autoPublish: true, profanity: "censor", links: "hold" });
  });
});

describe("admin moderation", () => {
  it("publishes, rejects and unpublishes with a rule; the audit log records who, when and which rule; the summary follows", async () => {
    const p = await createProduct(t.deps);
    await setSettings(t, { autoPublish: false });
    const v = await visitor(t);
    await postReviewJson(v, p.slug, { rating: 2, body: "Chipped on arrival, otherwise fine.", displayName: "Lee" }).expect(201);
    await setSettings(t, { autoPublish: true });
    const r = (await reviewsOf(p.id))[0]!;
    const { admin, csrf } = clients;

    const queue = await admin.get("/shop/admin/reviews?status=pending").expect(200);
    expect(load(queue.text)(`#review-${r.id}`).text()).toContain("Chipped on arrival");

    // Reject needs a reason from the content rules.
    const noReason = await admin.post(`/shop/admin/reviews/${r.id}/moderate`).type("form").send({ _csrf: csrf, action: "reject" }).expect(400);
    expect(noReason.text).toContain("reason");
    const badReason = await admin.post(`/shop/admin/reviews/${r.id}/moderate`).type("form").send({ _csrf: csrf, action: "reject", reason: "negative" }).expect(400);
    expect(badReason.text).toContain("reason");

    await admin.post(`/shop/admin/reviews/${r.id}/moderate`).type("form").send({ _csrf: csrf, action: "publish", returnTo: "/admin/reviews?status=pending" }).expect(303);
    expect(await summaryOf(t, p.id)).toMatchObject({ count: 1, sum: 2, star2: 1 });
    // Publishing again changes nothing.
    await admin.post(`/shop/admin/reviews/${r.id}/moderate`).type("form").send({ _csrf: csrf, action: "publish" }).expect(303);
    expect(await summaryOf(t, p.id)).toMatchObject({ count: 1, sum: 2, star2: 1 });

    const res = await admin.post(`/shop/admin/reviews/${r.id}/moderate`).type("form").send({ _csrf: csrf, action: "unpublish", reason: "personal_data", note: "Has the courier's phone" }).expect(303);
    expect(res.headers.location).toBe(`/shop/admin/reviews/${r.id}?done=unpublish`);
    expect(await summaryOf(t, p.id)).toMatchObject({ count: 0, sum: 0, star2: 0 });
    expect((await t.db.review.findUniqueOrThrow({ where: { id: r.id } })).status).toBe("rejected");

    const audit = await t.db.auditLog.findMany({ where: { entityId: r.id }, orderBy: { at: "asc" } });
    expect(audit.map((a) => [a.action, a.rule, a.actorType])).toEqual([
      ["review.publish", null, "admin"],
      ["review.unpublish", "personal_data", "admin"],
    ]);
    expect(audit[1]!.actorId).toBeTruthy();
    expect(JSON.parse(audit[1]!.details)).toMatchObject({ note: "Has the courier's phone", from: "published" });

    const log = await admin.get("/shop/admin/reviews/audit").expect(200);
    const row = load(log.text)("tbody tr").first().text();
    expect(row).toContain("Unpublished");
    // The rule in words, not its stored name.
    expect(row).toContain("Personal data");
    expect(row).not.toContain("personal_data");
    expect(row).toContain(clients.email);
    const detail = await admin.get(`/shop/admin/reviews/${r.id}`).expect(200);
    expect(load(detail.text)(".history li")).toHaveLength(2);

    // Unpublishing something that is not published is a conflict, not a silent no-op.
    await admin.post(`/shop/admin/reviews/${r.id}/moderate`).type("form").send({ _csrf: csrf, action: "unpublish", reason: "spam" }).expect(409);
  });

  it("keeps the summary right under parallel publish and unpublish of the same review", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const ids: string[] = [];
    for (const rating of [5, 3, 1]) {
      const res = await postReviewJson(v, p.slug, { rating, body: `Parallel test review with ${rating} stars.`, displayName: "Par" }).expect(201);
      ids.push(res.body.data.id);
    }
    for (let round = 0; round < 3; round++) {
      const calls = ids.flatMap((id) =>
        Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0 ? clients.api("post", `/reviews/${id}/publish`).send({}) : clients.api("post", `/reviews/${id}/reject`).send({ reason: "spam" }),
        ),
      );
      const results = await Promise.all(calls);
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(await summaryOf(t, p.id)).toEqual(await recount(t, p.id));
    }
    await Promise.all(ids.map((id) => clients.api("post", `/reviews/${id}/publish`).send({})));
    expect(await summaryOf(t, p.id)).toEqual({ count: 3, sum: 9, star1: 1, star2: 0, star3: 1, star4: 0, star5: 1 });
  });

  it("replies publicly; the reply shows under the review; an empty reply removes it", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    const { body } = await postReviewJson(v, p.slug, { rating: 3, body: "Smaller than I expected.", displayName: "Kai" }).expect(201);
    const id = body.data.id as string;
    await clients.admin.post(`/shop/admin/reviews/${id}/reply`).type("form").send({ _csrf: clients.csrf, body: "Thanks Kai — the size is now in the description. <b>sorry</b>" }).expect(303);
    let page = await v.agent.get(`/shop/p/${p.slug}`).expect(200);
    expect(load(page.text)(`#review-${id} .review__reply-body`).text()).toBe("Thanks Kai — the size is now in the description. <b>sorry</b>");
    expect(load(page.text)(`#review-${id} .review__reply-by`).text()).toBe("Reply from Test Shop");
    await clients.admin.post(`/shop/admin/reviews/${id}/reply`).type("form").send({ _csrf: clients.csrf, body: "" }).expect(303);
    page = await v.agent.get(`/shop/p/${p.slug}`).expect(200);
    expect(load(page.text)(`#review-${id} .review__reply`)).toHaveLength(0);
  });

  it("labels incentivized reviews: the shopper's own checkbox, or the admin (never removed)", async () => {
    const p = await createProduct(t.deps);
    const v = await visitor(t);
    await postReviewForm(v, p.slug, goodReview({ incentivized: "on" }));
    const { body } = await postReviewJson(v, p.slug, { rating: 5, body: "Got a sample, and it is good.", displayName: "Rae" }).expect(201);
    await clients.admin.post(`/shop/admin/reviews/${body.data.id}/incentivized`).type("form").send({ _csrf: clients.csrf }).expect(303);
    const page = await v.agent.get(`/shop/p/${p.slug}`).expect(200);
    const $page = load(page.text);
    expect($page(".review .badge--muted").map((_, el) => $page(el).text()).get()).toEqual(["Incentivized", "Incentivized"]);
    // The API can add the label, never remove it, and can never set the verified badge.
    await clients.api("patch", `/reviews/${body.data.id}`).send({ incentivized: false }).expect(400);
    const forged = await clients.api("patch", `/reviews/${body.data.id}`).send({ verifiedBuyer: true }).expect(400);
    expect(forged.body.error.message).toMatch(/verifiedBuyer/);
    expect((await t.db.review.findUniqueOrThrow({ where: { id: body.data.id } })).verifiedBuyer).toBe(false);
  });
});

describe("helpful votes", () => {
  it("counts one vote per visitor; a second is a 409; a review that is not published cannot be voted on", async () => {
    const p = await createProduct(t.deps);
    const author = await visitor(t);
    const { body } = await postReviewJson(author, p.slug, { rating: 4, body: "Useful details about the size.", displayName: "Bo" }).expect(201);
    const id = body.data.id as string;
    const a = await visitor(t);
    const first = await a.agent.post(`/shop/reviews/${id}/helpful`).type("form").send({ _csrf: a.csrf }).expect(303);
    expect(first.headers.location).toBe(`/shop/p/${p.slug}?voted=1#review-${id}`);
    const again = await a.agent.post(`/shop/reviews/${id}/helpful`).set("Accept", "application/json").set("X-CSRF-Token", a.csrf).expect(409);
    expect(again.body.error.code).toBe("already_voted");
    const b = await visitor(t, a.ip);
    const other = await b.agent.post(`/shop/reviews/${id}/helpful`).set("Accept", "application/json").set("X-CSRF-Token", b.csrf).expect(200);
    expect(other.body.data.helpfulCount).toBe(2);
    expect(await t.db.reviewVote.count({ where: { reviewId: id } })).toBe(2);

    await clients.api("post", `/reviews/${id}/reject`).send({ reason: "off_topic" }).expect(200);
    const c = await visitor(t);
    await c.agent.post(`/shop/reviews/${id}/helpful`).set("Accept", "application/json").set("X-CSRF-Token", c.csrf).expect(404);
  });

  it("rate limits a vote flood from one address (new cookies each time) after 30 votes", async () => {
    const p = await createProduct(t.deps);
    const { body } = await postReviewJson(await visitor(t), p.slug, { rating: 5, body: "Flood target review text.", displayName: "Tg" }).expect(201);
    const ip = (await visitor(t)).ip;
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const fresh = await visitor(t, ip);
      statuses.push((await fresh.agent.post(`/shop/reviews/${body.data.id}/helpful`).set("Accept", "application/json").set("X-CSRF-Token", fresh.csrf)).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual([429, 429]);
    expect((await t.db.review.findUniqueOrThrow({ where: { id: body.data.id } })).helpfulCount).toBe(30);
  });
});

describe("sorting, star filter and pagination on the product page", () => {
  it("sorts by newest, highest, lowest, most helpful and photos first; filters by star; pages by 10 from the summary", async () => {
    const p = await createProduct(t.deps);
    const base = Date.parse("2026-10-01T10:00:00Z");
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const r = await t.db.review.create({
        data: { productId: p.id, rating: (i % 5) + 1, body: `Review ${i}`, displayName: `R${i}`, status: "pending", createdAt: new Date(base + i * 3600_000), helpfulCount: i === 4 ? 50 : i === 9 ? 40 : 0, hasPhotos: i === 2 },
      });
      ids.push(r.id);
      await clients.api("post", `/reviews/${r.id}/publish`).send({}).expect(200);
    }
    const order = async (qs: string) => {
      const page = await (await visitor(t)).agent.get(`/shop/p/${p.slug}${qs}`).expect(200);
      const $ = load(page.text);
      return { bodies: $(".review__body").map((_, el) => $(el).text()).get(), pager: $(".pager .muted").text(), $ };
    };
    expect((await order("")).bodies.slice(0, 3)).toEqual(["Review 22", "Review 21", "Review 20"]);
    expect((await order("")).pager).toBe("Page 1 of 3");
    expect((await order("?rsort=highest")).bodies.slice(0, 3)).toEqual(["Review 19", "Review 14", "Review 9"]);
    expect((await order("?rsort=lowest")).bodies.slice(0, 3)).toEqual(["Review 20", "Review 15", "Review 10"]);
    expect((await order("?rsort=helpful")).bodies.slice(0, 2)).toEqual(["Review 4", "Review 9"]);
    expect((await order("?rsort=photos")).bodies[0]).toBe("Review 2");
    const fives = await order("?rstar=5");
    expect(fives.bodies).toEqual(["Review 19", "Review 14", "Review 9", "Review 4"]);
    expect(fives.$(".pager")).toHaveLength(0);
    const last = await order("?rpage=3");
    expect(last.bodies).toEqual(["Review 2", "Review 1", "Review 0"]);
    expect(last.$('a[rel="prev"]').attr("href")).toBe(`/shop/p/${p.slug}?rpage=2#reviews`);
    // Links keep the sort and filter.
    const sorted = await order("?rsort=lowest&rstar=1");
    expect(sorted.$(`a.histogram__link`).first().attr("href")).toBe(`/shop/p/${p.slug}?rsort=lowest&rstar=5#reviews`);
    // Nonsense falls back to the defaults instead of failing the page.
    expect((await order("?rsort=evil&rstar=9&rpage=-3")).bodies[0]).toBe("Review 22");
    // JSON-LD lists exactly the reviews shown on that page.
    const ld = jsonLdOf((await (await visitor(t)).agent.get(`/shop/p/${p.slug}?rpage=2`)).text);
    expect(ld.review?.map((r) => r.reviewBody)).toEqual((await order("?rpage=2")).bodies);
    expect(ld.aggregateRating).toMatchObject({ reviewCount: 23 });
  });
});

describe("social proof from real data", () => {
  it("'N bought this week' counts paid order lines of the last 7 days only", async () => {
    const p = await createProduct(t.deps, { variants: [{ stock: 100 }] });
    const v = p.variants[0]!;
    const now = t.deps.now().getTime();
    const order = async (status: string, paidDaysAgo: number | null, quantity: number) => {
      const counter = await t.db.counter.upsert({ where: { name: "order" }, create: { name: "order", value: 5001 }, update: { value: { increment: 1 } } });
      await t.db.order.create({
        data: {
          number: counter.value, status, currency: "USD", subtotalMinor: 100, totalMinor: 100, paymentProvider: "local",
          paidAt: paidDaysAgo === null ? null : new Date(now - paidDaysAgo * 24 * 3600_000),
          lines: { create: [{ productId: p.id, variantId: v.id, title: "x", sku: v.sku, unitPriceMinor: 100, quantity, totalMinor: 100 * quantity }] },
        },
      });
    };
    await order("paid", 1, 2);
    await order("fulfilled", 6.5, 1);
    await order("paid", 8, 5); // too old
    await order("refunded", 2, 4); // money went back
    await order("pending", null, 3); // not paid
    const page = await (await visitor(t)).agent.get(`/shop/p/${p.slug}`).expect(200);
    expect(load(page.text)(".signal").first().text()).toBe("3 bought this week");
  });

  it("'Top rated in <collection>' goes to the collection's best Bayesian average with at least 3 reviews", async () => {
    const collection = await t.db.collection.create({ data: { slug: "bowls", title: "Bowls" } });
    const make = async (ratings: number[]) => {
      const p = await createProduct(t.deps);
      await t.db.collectionProduct.create({ data: { collectionId: collection.id, productId: p.id } });
      for (const [i, rating] of ratings.entries()) {
        const r = await t.db.review.create({ data: { productId: p.id, rating, body: `b${i}`, displayName: "n", status: "pending" } });
        await clients.api("post", `/reviews/${r.id}/publish`).send({}).expect(200);
      }
      return p;
    };
    const many = await make([5, 5, 5, 5, 4, 5, 5, 5]);
    const few = await make([5, 5, 5]);
    await make([5]);
    const manyPage = await (await visitor(t)).agent.get(`/shop/p/${many.slug}`).expect(200);
    expect(load(manyPage.text)(".signal--top").text()).toBe("Top rated in Bowls");
    expect(load(manyPage.text)(".signal--top a").attr("href")).toBe("/shop/top-rated?collection=bowls");
    const fewPage = await (await visitor(t)).agent.get(`/shop/p/${few.slug}`).expect(200);
    expect(load(fewPage.text)(".signal--top")).toHaveLength(0);

    const top = await (await visitor(t)).agent.get("/shop/top-rated?collection=bowls").expect(200);
    const $top = load(top.text);
    const titles = $top(".ranking__title").map((_, el) => $top(el).text()).get();
    expect(titles[0]).toBe(many.title);
    expect(titles[1]).toBe(few.title);
    await (await visitor(t)).agent.get("/shop/top-rated?collection=nope").expect(404);
  });
});

describe("settings", () => {
  it("has no rating-based setting: a 'minimum rating' is refused, through the API and the admin form", async () => {
    const res = await clients.api("patch", "/reviews/settings").send({ autoPublish: true, autoPublishMinRating: 4 }).expect(400);
    expect(res.body.error.message).toMatch(/autoPublishMinRating/);
    const form = await clients.admin
      .post("/shop/admin/reviews/settings")
      .type("form")
      .send({ _csrf: clients.csrf, whoCanReview: "anyone", autoPublish: "on", profanity: "censor", links: "hold", requestsEnabled: "on", requestTrigger: "paid", requestDelayDays: "7", incentive: "", minRating: "4" })
      .expect(400);
    expect(load(form.text)("#form-problems").text()).toContain("minRating");
  });

  it("saves through the admin form, validates each field, and audits the change", async () => {
    const bad = await clients.admin
      .post("/shop/admin/reviews/settings")
      .type("form")
      .send({ _csrf: clients.csrf, whoCanReview: "anyone", profanity: "censor", links: "hold", requestTrigger: "paid", requestDelayDays: "61", incentive: "" })
      .expect(400);
    expect(load(bad.text)("#form-problems").text()).toContain("requestDelayDays");
    await clients.admin
      .post("/shop/admin/reviews/settings")
      .type("form")
      .send({ _csrf: clients.csrf, whoCanReview: "anyone", autoPublish: "on", profanity: "censor", links: "allow", requestsEnabled: "on", requestTrigger: "paid", requestDelayDays: "3", incentive: "" })
      .expect(303);
    const { body } = await clients.api("get", "/reviews/settings").expect(200);
    expect(body.data).toMatchObject({ links: "allow", requestTrigger: "paid", requestDelayDays: 3 });
    const audit = await t.db.auditLog.findFirstOrThrow({ where: { action: "reviews.settings", actorType: "admin" }, orderBy: { at: "desc" } });
    expect(JSON.parse(audit.details)).toMatchObject({ links: { from: "hold", to: "allow" } });
    await setSettings(t, { links: "hold", requestTrigger: "fulfilled", requestDelayDays: 7 });
  });
});
