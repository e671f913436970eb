import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendLiveEventInTx, wakeLiveStreams } from "../src/live/live.events.js";
import { InProcessBroadcaster } from "../src/realtime/broadcaster.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { serve } from "./helpers/browser.js";
import { liveApi, liveShow, newViewer, sseClient, type LiveApi } from "./helpers/live.js";

/**
 * Issue 11, point 2 (real time): Server-Sent Events at /live/:code/events
 * over a real HTTP server. The `featured` event and its JSON, Last-Event-ID
 * resume from the event log, heartbeats, host-only events, viewer counts from
 * connections, slow readers dropped, connections that come and go leave
 * nothing behind.
 */
let t: TestApp;
let api: LiveApi;
let origin: string;
let stop: () => Promise<void>;
const broadcaster = new InProcessBroadcaster();
beforeAll(async () => {
  t = await buildTestApp({ broadcaster, liveStreams: { heartbeatMs: 300, maxBufferedBytes: 64 * 1024 } });
  api = await liveApi(t.app, t.deps);
  ({ origin, shutdown: stop } = await serve(t));
});
afterAll(async () => {
  await stop?.();
  await t?.close();
});

const live = () => t.shop.bazaarche.live;

describe("GET /live/:code/events", () => {
  it("sends an event named featured whose data is JSON with itemId, each time the host features an item", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }, { claimCode: "2" }] });
    const sse = sseClient(origin, `/shop/live/${session.code}/events`);
    await sse.connected();
    expect(sse.status).toBe(200);
    await api.feature(session.id, items[1]!.id).expect(200);
    const first = await sse.next("featured");
    expect(JSON.parse(first.data)).toEqual({ itemId: items[1]!.id, productId: items[1]!.productId });
    expect(Number(first.id)).toBeGreaterThan(0);
    await api.feature(session.id, items[0]!.id).expect(200);
    const second = await sse.next("featured");
    expect(JSON.parse(second.data).itemId).toBe(items[0]!.id);
    expect(Number(second.id)).toBeGreaterThan(Number(first.id));
    // Pins, stock after a claim, flash deals reach the stream too.
    await api.post(`/${session.id}/pin`, { message: "Free shipping tonight" }).expect(200);
    expect(JSON.parse((await sse.next("pin")).data)).toEqual({ message: "Free shipping tonight" });
    const viewer = await newViewer(t.app, session.code);
    await viewer.claim(items[0]!.id, items[0]!.variants[0]!.id).expect(201);
    expect(JSON.parse((await sse.next("stock")).data)).toMatchObject({ itemId: items[0]!.id, left: 9 });
    // Heartbeats keep it open.
    await sse.waitFor(() => sse.comments.includes("ping"), "a heartbeat");
    sse.close();
  });

  it("resumes after a dropped connection from Last-Event-ID, in order, from the log in the database", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }, { claimCode: "2" }, { claimCode: "3" }] });
    const first = sseClient(origin, `/shop/live/${session.code}/events`);
    await first.connected();
    await api.feature(session.id, items[1]!.id).expect(200);
    const seen = await first.next("featured");
    first.close();
    // While the phone is in a tunnel:
    await api.feature(session.id, items[2]!.id).expect(200);
    await api.post(`/${session.id}/pin`, { message: "Back in 5" }).expect(200);
    await api.feature(session.id, items[0]!.id).expect(200);
    const again = sseClient(origin, `/shop/live/${session.code}/events`, { lastEventId: seen.id });
    await again.waitFor(() => again.events.filter((e) => e.event === "featured").length >= 2, "the missed events");
    expect(again.events.map((e) => e.event)).toEqual(["featured", "pin", "featured"]);
    expect(again.events.map((e) => JSON.parse(e.data).itemId ?? JSON.parse(e.data).message)).toEqual([items[2]!.id, "Back in 5", items[0]!.id]);
    const ids = again.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[0]).toBe(Number(seen.id) + 1);
    again.close();

    // The page gives its seq as ?after= on the first connection.
    const fromPage = sseClient(origin, `/shop/live/${session.code}/events?after=${seen.id}`);
    await fromPage.waitFor(() => fromPage.events.length >= 3, "the events after the page");
    expect(fromPage.events.map((e) => e.event)).toEqual(["featured", "pin", "featured"]);
    fromPage.close();

    // Further back than the log keeps: the client is told to reload its state.
    await t.db.liveEvent.deleteMany({ where: { liveSessionId: session.id, seq: { lte: Number(seen.id) + 1 } } });
    const stale = sseClient(origin, `/shop/live/${session.code}/events`, { lastEventId: "1" });
    const reset = await stale.next("reset");
    expect(Number(reset.id)).toBeGreaterThan(Number(seen.id));
    stale.close();
  });

  it("keeps host-only events (comments, questions) off the viewers' stream", async () => {
    const { session, items } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    const viewerStream = sseClient(origin, `/shop/live/${session.code}/events`);
    await viewerStream.connected();
    await api.comments(session.id, [{ handle: "a", text: "hello" }, { handle: "b", text: "sold 1" }]).expect(200);
    await api.feature(session.id, items[0]!.id).expect(200);
    await viewerStream.next("featured");
    expect(viewerStream.events.map((e) => e.event)).not.toContain("comment");
    expect(viewerStream.events.map((e) => e.event)).not.toContain("claim");
    expect((await t.db.liveEvent.findMany({ where: { liveSessionId: session.id, audience: "host" } })).map((e) => e.type).sort()).toEqual(["comment", "comment"]);
    // The claim reached the viewers as a stock count, without who made it.
    expect(JSON.parse(viewerStream.events.find((e) => e.event === "stock")!.data)).toEqual({ itemId: items[0]!.id, left: 9, variants: [{ id: items[0]!.variants[0]!.id, left: 9 }] });
    viewerStream.close();
  });

  it("counts viewers from the open connections (distinct visitors), and the peak", async () => {
    const { session } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    // Two phones; a first visit (the page for everyone) counts by address and browser, hashed.
    const a = await newViewer(t.app, session.code, { userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Mobile" });
    const b = await newViewer(t.app, session.code, { userAgent: "Mozilla/5.0 (Linux; Android 15; Pixel 9) Mobile" });
    // The same phone again: not another visitor.
    await request(t.app).get(`/shop/live/${session.code}`).set("User-Agent", "Mozilla/5.0 (Linux; Android 15; Pixel 9) Mobile").expect(200);
    const cookieOf = (v: typeof a) => v.viewerCookie!;
    const streams = [
      sseClient(origin, `/shop/live/${session.code}/events`, { headers: { Cookie: cookieOf(a) } }),
      sseClient(origin, `/shop/live/${session.code}/events`, { headers: { Cookie: cookieOf(a) } }),
      sseClient(origin, `/shop/live/${session.code}/events`, { headers: { Cookie: cookieOf(b) } }),
    ];
    await Promise.all(streams.map((s) => s.connected()));
    await expect.poll(() => live().viewersNow(session.id)).toBe(2);
    expect((await api.get(`/${session.id}`).expect(200)).body.data.viewersNow).toBe(2);
    await expect.poll(async () => (await t.db.liveSession.findUniqueOrThrow({ where: { id: session.id } })).peakViewers).toBe(2);
    streams[2]!.close();
    await expect.poll(() => live().viewersNow(session.id)).toBe(1);
    for (const s of streams) s.close();
    await expect.poll(() => live().viewersNow(session.id)).toBe(0);
    const stats = (await api.get(`/${session.id}/stats`).expect(200)).body.data;
    expect(stats.viewers).toMatchObject({ now: 0, peak: 2, total: 2 });
  });

  it("drops a viewer that stops reading instead of buffering without bound; readers keep receiving", async () => {
    const { session } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    const slow = sseClient(origin, `/shop/live/${session.code}/events`);
    const reader = sseClient(origin, `/shop/live/${session.code}/events`);
    await Promise.all([slow.connected(), reader.connected()]);
    await expect.poll(() => live().streamCount()).toBeGreaterThanOrEqual(2);
    slow.pause();
    const droppedBefore = live().dropped;
    // 8 MB of events in batches, as a busy show writes them (the reader takes
    // each batch before the next): twice what the kernel buffers between the
    // two ends hold, so the paused viewer's share piles up in the server.
    const big = "x".repeat(20_000);
    for (let batch = 0; batch < 40; batch++) {
      await t.db.$transaction(async (tx) => {
        for (let i = 0; i < 10; i++) await appendLiveEventInTx(tx, t.deps, { sessionId: session.id, type: "note", data: { big } });
      });
      await wakeLiveStreams(t.deps, session.id);
      await reader.waitFor(() => reader.events.filter((e) => e.event === "note").length === 10 * (batch + 1), `batch ${batch}`, 30_000);
    }
    await expect.poll(() => live().dropped, { timeout: 30_000 }).toBeGreaterThan(droppedBefore);
    await expect.poll(() => live().streamCount()).toBe(1);
    expect(reader.closed).toBe(false);
    slow.close();
    reader.close();
  });

  it("thousands of connections that come and go leave no streams, hubs or subscriptions behind", async () => {
    const { session } = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    const other = await liveShow(t.app, t.deps, api, { items: [{ claimCode: "1" }] });
    const baseChannels = broadcaster.channelCount();
    for (let round = 0; round < 10; round++) {
      const batch = Array.from({ length: 100 }, (_, i) => sseClient(origin, `/shop/live/${(i % 2 ? session : other.session).code}/events`));
      await Promise.all(batch.map((s) => s.connected()));
      // Some leave before the server finished opening them, some after.
      for (const s of batch) s.close();
    }
    await expect.poll(() => live().streamCount(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => live().hubCount()).toBe(0);
    expect(broadcaster.channelCount()).toBeLessThanOrEqual(baseChannels);
    // And the show goes on for the next viewer.
    const next = sseClient(origin, `/shop/live/${session.code}/events`);
    await next.connected();
    await api.post(`/${session.id}/pin`, { message: "still here" }).expect(200);
    expect(JSON.parse((await next.next("pin")).data).message).toBe("still here");
    next.close();
  });

  it("unknown shows are a 404, not a stream", async () => {
    const sse = sseClient(origin, "/shop/live/no-such-show/events");
    await sse.connected();
    expect(sse.status).toBe(404);
    sse.close();
  });
});
