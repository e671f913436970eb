import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveJobs } from "../src/live/live.jobs.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { liveApi, liveShow, newViewer, type LiveApi, type Viewer } from "./helpers/live.js";
import { shopperWithCart } from "./helpers/shopper.js";

/**
 * Issue 11, point 3 under concurrency: real parallel HTTP requests, then the
 * rows are counted. Claims against stock, the show's cap, per-buyer limits,
 * claims racing ordinary checkouts for the same units, and the waitlist
 * order when holds run out.
 */
let t: TestApp;
let api: LiveApi;
let clock = new Date("2026-12-05T18:00:00Z").getTime();
beforeAll(async () => {
  t = await buildTestApp({ now: () => new Date(clock) });
  api = await liveApi(t.app, t.deps);
});
afterAll(() => t.close());

const viewers = async (code: string, n: number) => {
  const list: Viewer[] = [];
  for (let i = 0; i < n; i++) list.push(await newViewer(t.app, code));
  return list;
};
const statuses = (results: { status: number }[]) => results.reduce<Record<number, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});
const reservedOf = async (variantId: string) => (await t.db.variant.findUniqueOrThrow({ where: { id: variantId } })).reserved;
const activeHoldUnits = async (variantId: string) => (await t.db.stockHold.aggregate({ where: { variantId, status: "active" }, _sum: { quantity: true } }))._sum.quantity ?? 0;

describe("claims under concurrency", () => {
  it("40 viewers for 6 units: exactly 6 holds; the other 34 are told sold out with distinct waitlist places; the waitlist is served in order", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { holdMinutes: 5, items: [{ claimCode: "1", variants: [{ stock: 6 }] }] });
    const v = items[0]!.variants[0]!;
    const crowd = await viewers(session.code, 40);
    const results = await Promise.all(crowd.map((c) => c.claim(items[0]!.id, v.id)));
    expect(statuses(results)).toEqual({ 201: 6, 409: 34 });
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === "sold_out")).toBe(true);
    const places = results.filter((r) => r.status === 409).map((r) => r.body.error.details.waitlist.position as number);
    expect([...places].sort((a, b) => a - b)).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
    expect(await t.db.liveClaim.count({ where: { itemId: items[0]!.id } })).toBe(6);
    expect(await reservedOf(v.id)).toBe(6);
    expect(await activeHoldUnits(v.id)).toBe(6);

    // All six holds run out: the first six in line get the units, in the order they were told.
    clock += 5 * 60_000 + 1000;
    const settle = liveJobs().find((j) => j.name === "live.settle-claims")!;
    expect(await settle.run(t.deps, { signal: new AbortController().signal, progress: async () => undefined })).toMatchObject({ expired: 6, offers: 6 });
    const firstSix = results.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 409 && r.body.error.details.waitlist.position <= 6).map(({ i }) => i);
    for (let i = 0; i < crowd.length; i++) {
      const you = (await crowd[i]!.you()).body.data;
      const offered = you.claims.some((c: { state: string; source: string }) => c.state === "held" && c.source === "waitlist");
      expect(offered, `viewer ${i}`).toBe(firstSix.includes(i));
    }
    expect(await reservedOf(v.id)).toBe(6);
    expect(await activeHoldUnits(v.id)).toBe(6);
  });

  it("the show's cap holds: 30 parallel claims, stock 100, cap 7 → 7", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "2", quantityCap: 7, variants: [{ stock: 100 }] }] });
    const v = items[0]!.variants[0]!;
    const results = await Promise.all((await viewers(session.code, 30)).map((c) => c.claim(items[0]!.id, v.id)));
    expect(statuses(results)).toEqual({ 201: 7, 409: 23 });
    expect(await reservedOf(v.id)).toBe(7);
  });

  it("a per-buyer limit holds against one viewer's parallel claims (limit 3, 12 at once)", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "3", perBuyerLimit: 3, variants: [{ stock: 50 }] }] });
    const v = items[0]!.variants[0]!;
    const [one] = await viewers(session.code, 1);
    const results = await Promise.all(Array.from({ length: 12 }, () => one!.claim(items[0]!.id, v.id)));
    expect(statuses(results)).toEqual({ 201: 3, 409: 9 });
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === "buyer_limit")).toBe(true);
    expect(await reservedOf(v.id)).toBe(3);
  });

  it("claims and ordinary checkouts racing for the same 8 units never hold more than 8", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "4", variants: [{ stock: 8 }] }] });
    const v = items[0]!.variants[0]!;
    const claimers = await viewers(session.code, 12);
    const shoppers = await Promise.all(Array.from({ length: 12 }, () => shopperWithCart(t.app, t.deps, { items: [{ variantId: v.id, quantity: 1 }] })));
    const results = await Promise.all([...claimers.map((c) => c.claim(items[0]!.id, v.id)), ...shoppers.map((s) => s.checkout())]);
    const held = results.filter((r) => r.status === 201 || r.status === 303).length;
    expect(held).toBe(8);
    expect(await reservedOf(v.id)).toBe(8);
    expect(await activeHoldUnits(v.id)).toBe(8);
  });

  it("parallel checkouts of the same claims take the hold over once (no double hold)", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "5", variants: [{ stock: 2 }] }] });
    const v = items[0]!.variants[0]!;
    const [one] = await viewers(session.code, 1);
    await one!.claim(items[0]!.id, v.id).expect(201);
    const results = await Promise.all(Array.from({ length: 6 }, () => one!.checkout()));
    expect(results.some((r) => r.status === 303)).toBe(true);
    expect(await reservedOf(v.id)).toBe(1);
    expect(await activeHoldUnits(v.id)).toBe(1);
    expect(await t.db.order.count({ where: { liveSessionId: session.id, status: "pending" } })).toBe(1);
  });
});
