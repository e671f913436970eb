import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flushEvents } from "../src/analytics/events.js";
import { load } from "./helpers/html.js";
import { liveApi, liveShow, newViewer, type LiveApi } from "./helpers/live.js";
import { buildCountingTestApp } from "./helpers/query-count.js";

/**
 * Issue 11, "Performance": what one claim costs the database, counted at the
 * driver adapter (every statement, raw or generated). The crowd that arrives
 * after the last unit is answered with two statements; the figures
 * themselves are in `npm run bench:live`. Also: the no-script form post
 * still gets its page (it does not take the JSON lane).
 */
let t: Awaited<ReturnType<typeof buildCountingTestApp>>;
let api: LiveApi;
beforeAll(async () => {
  t = await buildCountingTestApp();
  api = await liveApi(t.app, t.deps);
});
afterAll(() => t.close());

// Generated statements name the table with its schema (`main`.`X` on SQLite, "public"."X" on PostgreSQL); hand-written ones do not.
const generatedFrom = (table: string) => new RegExp(`^\\s*SELECT\\s+[\`"](main|public)[\`"]\\.[\`"]${table}[\`"]`);

describe("a claim's statements", () => {
  it("sold out: two statements (the lookup and the waitlist place), no settings read, and the place in the answer", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1", variants: [{ stock: 1 }] }] });
    const v = items[0]!.variants[0]!;
    const [first, second, third] = [await newViewer(t.app, session.code), await newViewer(t.app, session.code), await newViewer(t.app, session.code)];
    await first.claim(items[0]!.id, v.id).expect(201);

    // Page views are buffered analytics: written now, so the log holds only what the claim sent.
    await flushEvents(t.deps);
    t.log.reset();
    const refused = await second.claim(items[0]!.id, v.id).expect(409);
    expect(refused.body.error).toMatchObject({ code: "sold_out", details: { waitlist: { position: 1, variantId: v.id } } });
    expect(t.log.sql.filter((sql) => /"Setting"|`Setting`/.test(sql))).toEqual([]);
    expect(t.log.sql).toHaveLength(2);

    await flushEvents(t.deps);
    t.log.reset();
    expect((await third.claim(items[0]!.id, v.id).expect(409)).body.error.details.waitlist.position).toBe(2);
    expect(t.log.sql).toHaveLength(2);
  });

  it("held: no generated read of flash deals when none runs on the item; with one running, the flash price", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "2", livePriceMinor: 2000, variants: [{ stock: 5, priceMinor: 2500 }] }] });
    const v = items[0]!.variants[0]!;
    const viewer = await newViewer(t.app, session.code);
    await flushEvents(t.deps);
    t.log.reset();
    expect((await viewer.claim(items[0]!.id, v.id).expect(201)).body.data).toMatchObject({ unitPriceMinor: 2000, priceKind: "live" });
    expect(t.log.sql.filter((sql) => generatedFrom("LiveFlashDeal").test(sql))).toEqual([]);
    expect(t.log.sql.filter((sql) => /"Setting"|`Setting`/.test(sql))).toEqual([]);

    await api.post(`/${session.id}/flash`, { itemId: items[0]!.id, priceMinor: 1500, seconds: 60, unitCap: 3, perBuyerLimit: 1 }).expect(201);
    const other = await newViewer(t.app, session.code);
    await flushEvents(t.deps);
    t.log.reset();
    expect((await other.claim(items[0]!.id, v.id).expect(201)).body.data).toMatchObject({ unitPriceMinor: 1500, priceKind: "flash" });
    expect(t.log.sql.filter((sql) => generatedFrom("LiveFlashDeal").test(sql))).toHaveLength(1);
  });

  it("a form post without script goes past the JSON lane: 303 to the page when held, the page with the message when sold out, 403 without the CSRF token", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "3", variants: [{ stock: 1 }] }] });
    const v = items[0]!.variants[0]!;
    const [a, b] = [await newViewer(t.app, session.code), await newViewer(t.app, session.code)];
    const held = await a.agent.post(`/shop/live/${session.code}/claims`).type("form").send({ _csrf: a.csrf, itemId: items[0]!.id, variantId: v.id }).expect(303);
    expect(held.headers.location).toContain(`/shop/live/${session.code}?item=${items[0]!.id}#you`);
    const soldOut = await b.agent.post(`/shop/live/${session.code}/claims`).type("form").send({ _csrf: b.csrf, itemId: items[0]!.id, variantId: v.id }).expect(409);
    expect(soldOut.headers["content-type"]).toMatch(/text\/html/);
    expect(load(soldOut.text)("body").text()).toMatch(/number 1 on the waitlist/);
    await b.agent.post(`/shop/live/${session.code}/claims`).type("form").send({ itemId: items[0]!.id, variantId: v.id }).expect(403);
  });
});
