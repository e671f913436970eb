import fc from "fast-check";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { matchVariant, normalizeText, parseComment, toAsciiDigits } from "../src/live/comment-grammar.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { liveApi, liveShow, type LiveApi } from "./helpers/live.js";
import { TEST_ADDRESS } from "./helpers/orders.js";

/** Issue 11, point 4: comment-to-claim, the grammar and the API. */

const lineup = [
  { itemId: "mug", claimCode: "12" },
  { itemId: "vase", claimCode: "A7" },
];

describe("the comment grammar", () => {
  it.each([
    ["sold 12", "mug", []],
    ["claim 12 blue M", "mug", ["blue", "m"]],
    ["12 M", "mug", ["m"]],
    ["SOLD #12!!", "mug", []],
    ["i want 12 please", "mug", []],
    ["dibs a7", "vase", []],
    ["خرید ۱۲", "mug", []],
    // Words come back normalised: one form of alef, no joiners.
    ["میخوام ۱۲ آبی", "mug", ["ابی"]],
    ["می‌خوام ١٢ آبی", "mug", ["ابی"]],
    ["مال من ۱۲ سایز M", "mug", ["m"]],
    ["ابغى 12", "mug", []],
  ])("%s → item %s", (text, itemId, words) => {
    expect(parseComment(text, lineup)).toEqual({ kind: "claim", itemId, code: itemId === "mug" ? "12" : "A7", words });
  });

  it.each([
    ["love this!!", { kind: "chat" }],
    ["this is 12 times better", { kind: "chat" }],
    ["how much is 12?", { kind: "chat" }],
    ["sold 99", { kind: "unknown_code", code: "99" }],
    ["خرید ۹۹", { kind: "unknown_code", code: "99" }],
    ["", { kind: "chat" }],
    ["😍😍", { kind: "chat" }],
  ])("%s → %j", (text, expected) => {
    expect(parseComment(text, lineup)).toEqual(expected);
  });

  it("reads Persian and Arabic-Indic digits as ASCII", () => {
    expect(toAsciiDigits("۰۱۲۳۴۵۶۷۸۹ ٠١٢٣٤٥٦٧٨٩")).toBe("0123456789 0123456789");
    expect(normalizeText("مي‌خواهم ك")).toBe("میخواهم ک");
  });

  it("matches variants by option words in any of the shop's languages, and asks when it cannot tell", () => {
    const variants = [
      { id: "blue-s", options: ["Blue", "S"] },
      { id: "blue-m", options: ["Blue", "M"] },
      { id: "red-m", options: ["Red", "M"] },
    ];
    expect(matchVariant(variants, ["blue", "m"])).toEqual({ kind: "one", variantId: "blue-m" });
    expect(matchVariant(variants, ["آبی", "متوسط"])).toEqual({ kind: "one", variantId: "blue-m" });
    expect(matchVariant(variants, ["red"])).toEqual({ kind: "one", variantId: "red-m" });
    expect(matchVariant(variants, ["blue"])).toEqual({ kind: "ask", optionIndex: 1, values: ["S", "M"] });
    expect(matchVariant(variants, ["m"])).toEqual({ kind: "ask", optionIndex: 0, values: ["Blue", "Red"] });
    expect(matchVariant(variants, [])).toEqual({ kind: "ask", optionIndex: 0, values: ["Blue", "Red"] });
    // A word that matches nothing never picks a variant.
    expect(matchVariant(variants, ["purple"])).toEqual({ kind: "ask", optionIndex: 0, values: ["Blue", "Red"] });
    // An impossible combination asks instead of guessing.
    expect(matchVariant(variants, ["red", "s"]).kind).toBe("ask");
    expect(matchVariant([{ id: "only", options: [null] }], [])).toEqual({ kind: "one", variantId: "only" });
    expect(matchVariant([{ id: "x", options: ["Large"] }, { id: "y", options: ["Small"] }], ["L"])).toEqual({ kind: "one", variantId: "x" });
  });

  it("never throws, whatever the text (any script, any length)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 500 }), (text) => {
        const parsed = parseComment(text, lineup);
        expect(["claim", "unknown_code", "chat"]).toContain(parsed.kind);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }), (words) => {
        expect(["one", "ask"]).toContain(matchVariant([{ id: "a", options: ["S"] }, { id: "b", options: ["M"] }], words).kind);
      }),
    );
  });
});

let t: TestApp;
let api: LiveApi;
beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://shop.example/shop" });
  api = await liveApi(t.app, t.deps);
});
afterAll(() => t.close());

describe("POST /api/v1/live/:id/comments", () => {
  it("answers every comment in order with an outcome, a reply to paste back and, for claims, a personal checkout link", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, {
      holdMinutes: 15,
      items: [
        { claimCode: "12", title: "Cloud mug", titleFa: "ماگ ابری", optionNames: ["Colour", "Size"], livePriceMinor: 1800, variants: [{ option1: "Blue", priceMinor: 2400, stock: 1 }, { option1: "Red", priceMinor: 2400, stock: 5 }].map((v, i) => ({ ...v, sku: `CLOUD-${i}` })) },
        { claimCode: "7", title: "Vase", variants: [{ priceMinor: 5000, stock: 2 }] },
      ],
    });
    // Two options per variant: colour and size.
    const [blue, red] = items[0]!.variants;
    await t.db.variant.update({ where: { id: blue!.id }, data: { option2: "M" } });
    await t.db.variant.update({ where: { id: red!.id }, data: { option2: "M" } });
    const extra = await t.db.variant.create({ data: { productId: items[0]!.productId, sku: "CLOUD-2", option1: "Red", option2: "L", priceMinor: 2400, currency: "USD", stock: 3, position: 2 } });

    const res = await api.comments(session.id, [
      { handle: "@Maya", text: "claim 12 blue M" },
      { handle: "sara", text: "میخوام ۱۲ آبی" },
      { handle: "leo", text: "sold 12 red" },
      { handle: "ana", text: "12 L" },
      { handle: "kim", text: "love the glaze!!" },
      { handle: "bo", text: "sold 99" },
      { handle: "maya", text: "sold 7" },
    ]).expect(200);
    const data = res.body.data as { outcome: string; reply: string; claimId?: string; checkoutUrl?: string }[];
    expect(data.map((d) => d.outcome)).toEqual(["claimed", "sold_out", "ambiguous", "claimed", "not_understood", "not_understood", "claimed"]);
    expect(data[0]!.reply).toBe(`@Maya you got it: Cloud mug – Blue / M at $18.00, held for 15 min. Pay here: ${data[0]!.checkoutUrl}`);
    expect(data[0]!.checkoutUrl).toMatch(new RegExp(`^https://shop\\.example/shop/live/${session.code}/pay/`));
    expect(data[0]!.claimId).toEqual(expect.any(String));
    expect(data[1]!.reply).toBe("‎@sara متأسفیم، ماگ ابری – Blue / M تمام شد. شما نفر ۱ فهرست انتظار هستید؛ اگر یکی آزاد شود برایتان نگه داشته می‌شود.");
    expect(data[2]!.reply).toBe('@leo which size: M or L? Comment e.g. "claim 12 M".');
    expect(data[3]!.claimId).toEqual(expect.any(String));
    expect(data[4]!.reply).toBe('@kim to claim, comment the code, e.g. "claim 12".');
    expect(data[5]!.reply).toBe('@bo there is no item 99 in this show. To claim, comment e.g. "claim 12".');
    // Maya's two claims share one checkout link.
    expect(data[6]!.checkoutUrl).toBe(data[0]!.checkoutUrl);
    expect(await t.db.liveClaim.findMany({ where: { liveSessionId: session.id }, orderBy: { createdAt: "asc" }, select: { claimant: true, variantId: true, source: true, handle: true } })).toEqual([
      { claimant: "instagram:maya", variantId: blue!.id, source: "comment", handle: "Maya" },
      { claimant: "instagram:ana", variantId: extra.id, source: "comment", handle: "ana" },
      { claimant: "instagram:maya", variantId: items[1]!.variants[0]!.id, source: "comment", handle: "maya" },
    ]);
    // Every comment is kept; the unmatched ones wait for the host.
    expect(await t.db.liveComment.count({ where: { liveSessionId: session.id } })).toBe(7);
    const unmatched = await api.get(`/${session.id}/comments?unmatched=1`).expect(200);
    expect(unmatched.body.data.map((c: { handle: string }) => c.handle).sort()).toEqual(["bo", "kim", "leo"]);

    // Maya pays through her link: both claims, at the claimed prices.
    const link = new URL(data[0]!.checkoutUrl!);
    const agent = request.agent(t.app);
    const page = await agent.get(link.pathname).expect(200);
    const $ = load(page.text);
    expect($(".order-lines li").length).toBe(3);
    expect($(".lead").text()).toBe("Claims of @maya");
    const started = await agent.post(link.pathname).type("form").send({ _csrf: csrfFrom(page.text), email: "maya@example.com" }).expect(303);
    const pay = new URL(started.headers.location!);
    await agent.post(pay.pathname + pay.search).type("form").send({ _csrf: csrfFrom(page.text), action: "pay", shipping: "standard", ...TEST_ADDRESS }).expect(303);
    const order = await t.db.order.findFirstOrThrow({ where: { liveSessionId: session.id, status: "paid" }, include: { lines: { orderBy: { unitPriceMinor: "asc" } } } });
    expect(order.lines.map((l) => [l.sku, l.unitPriceMinor])).toEqual([["CLOUD-0", 1800], [expect.any(String), 5000]]);
    expect(order.subtotalMinor).toBe(6800);
  });

  it("lists unmatched comments in the host console, where the host marks them done", async () => {
    const { session } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    await api.comments(session.id, [{ handle: "zed", text: "what sizes do you have?" }]).expect(200);
    const admin = await createAdmin(t.deps);
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    let $ = load((await agent.get(`/shop/admin/live/${session.id}`).expect(200)).text);
    const comment = $("[data-region=unmatched] [data-comment]");
    expect(comment.length).toBe(1);
    expect(comment.text()).toContain("what sizes do you have?");
    expect(comment.find(".console__reply").text()).toContain('@zed to claim, comment the code, e.g. "claim 1".');
    await agent.post(comment.find("form").attr("action")!).type("form").send({ _csrf: csrfFrom($.html()) }).expect(303);
    $ = load((await agent.get(`/shop/admin/live/${session.id}`).expect(200)).text);
    expect($("[data-region=unmatched] [data-comment]").length).toBe(0);
    // Pasting comments by hand gives the same outcomes and replies.
    const pasted = load((await agent.post(`/shop/admin/live/${session.id}/comments`).type("form").send({ _csrf: csrfFrom($.html()), platform: "tiktok", comments: "jo: sold 1\nvi: hello" }).expect(200)).text);
    expect(pasted(".console__result").map((_, el) => pasted(el).find(".badge").text()).get()).toEqual(["Claimed", "Not understood"]);
    expect(await t.db.liveClaim.count({ where: { liveSessionId: session.id, claimant: "tiktok:jo" } })).toBe(1);
  });

  it("refuses empty, huge, malformed or too many comments with a 400 naming the field, and a show that is not live with a 409", async () => {
    const { session } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    for (const [body, field] of [
      [{ comments: [] }, "comments"],
      [{ comments: [{ handle: "a", platform: "instagram", text: "   " }] }, "comments.0.text"],
      [{ comments: [{ handle: "a", platform: "instagram", text: "x".repeat(501) }] }, "comments.0.text"],
      [{ comments: [{ handle: "a", platform: "instagram", text: "bad \udc00" }] }, "comments.0.text"],
      [{ comments: [{ handle: "", platform: "instagram", text: "sold 1" }] }, "comments.0.handle"],
      [{ comments: [{ handle: "two words", platform: "instagram", text: "sold 1" }] }, "comments.0.handle"],
      [{ comments: [{ handle: "a", platform: "friendster", text: "sold 1" }] }, "comments.0.platform"],
      [{ comments: Array.from({ length: 101 }, () => ({ handle: "a", platform: "instagram", text: "sold 1" })) }, "comments"],
      [{ handle: "a", platform: "instagram", text: "sold 1" }, "comments"],
    ] as const) {
      const res = await api.post(`/${session.id}/comments`, body).expect(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await t.db.liveComment.count({ where: { liveSessionId: session.id } })).toBe(0);
    await api.end(session.id).expect(200);
    expect((await api.comments(session.id, [{ handle: "a", text: "sold 1" }]).expect(409)).body.error.code).toBe("not_live");
  });

  it("a follower's comment gets the follower price (the coupon engine's follower rules); others the live price", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "F", livePriceMinor: 2000, followerPriceMinor: 1500, followerMinDays: 30, variants: [{ priceMinor: 2500, stock: 5 }] }] });
    const now = t.deps.now().getTime();
    await t.db.follower.create({ data: { platform: "instagram", handle: "loyal", handleKey: "loyal", personKey: "pk-loyal", status: "active", importedAt: new Date(now), followedAt: new Date(now - 90 * 86400_000) } });
    await t.db.follower.create({ data: { platform: "instagram", handle: "fresh", handleKey: "fresh", personKey: "pk-fresh", status: "active", importedAt: new Date(now), followedAt: new Date(now - 2 * 86400_000) } });
    const res = await api.comments(session.id, [{ handle: "loyal", text: "sold F" }, { handle: "fresh", text: "sold F" }, { handle: "stranger", text: "sold F" }]).expect(200);
    expect(res.body.data.map((d: { outcome: string }) => d.outcome)).toEqual(["claimed", "claimed", "claimed"]);
    const claims = await t.db.liveClaim.findMany({ where: { itemId: items[0]!.id }, orderBy: { createdAt: "asc" }, select: { handle: true, unitPriceMinor: true, priceKind: true } });
    expect(claims).toEqual([
      { handle: "loyal", unitPriceMinor: 1500, priceKind: "follower" },
      { handle: "fresh", unitPriceMinor: 2000, priceKind: "live" },
      { handle: "stranger", unitPriceMinor: 2000, priceKind: "live" },
    ]);
  });
});
