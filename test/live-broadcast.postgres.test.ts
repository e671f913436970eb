/**
 * Several app instances on one PostgreSQL database: a viewer connected to
 * instance A sees, within the test's wait, what the host did on instance B
 * (LISTEN/NOTIFY through PostgresBroadcaster), in separate processes as in
 * production; and when the listening connections are cut, they come back by
 * themselves and the next change still arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresBroadcaster } from "../src/realtime/postgres-broadcaster.js";
import type { BroadcastMessage } from "../src/realtime/broadcaster.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { onServer } from "./helpers/engine.js";
import { createProduct, createToken } from "./helpers/factories.js";
import { sseClient } from "./helpers/live.js";
import { startAppProcesses, type AppProcesses } from "./helpers/processes.js";

let t: TestApp;
let apps: AppProcesses;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp();
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
  apps = await startAppProcesses(2, { DATABASE_URL: t.url, POOL_SIZE: 3 });
}, 180_000);
afterAll(async () => {
  await apps?.stop();
  await t?.close();
});

/** The host's API on one instance, as a streaming tool would call it. */
const onInstance = (base: string) => async (method: "POST" | "GET", path: string, body?: unknown) => {
  const res = await fetch(`${base}/shop/api/v1/live${path}`, { method, headers: { ...auth, "Content-Type": "application/json", Accept: "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
};

const featuredItem = (e: { data: string }) => (JSON.parse(e.data) as { itemId: string }).itemId;

describe("live shows across instances on PostgreSQL", () => {
  it("a viewer on instance A gets the host's changes made on instance B, and again after the listening connections were cut", async () => {
    const [a, b] = apps.urls as [string, string];
    const host = onInstance(b);
    const show = await host("POST", "", { title: "Two-instance show", hostName: "Ava", platform: "instagram", startsAt: new Date(Date.now() + 3600_000).toISOString() });
    expect(show.status).toBe(201);
    const { id, code } = show.body.data as { id: string; code: string };
    const items: string[] = [];
    for (const claimCode of ["1", "2", "3"]) {
      const p = await createProduct(t.deps, { variants: [{ stock: 5 }] });
      const item = await host("POST", `/${id}/items`, { productId: p.id, claimCode });
      expect(item.status).toBe(201);
      items.push(item.body.data.id as string);
    }
    expect((await host("POST", `/${id}/start`)).status).toBe(200);

    const viewer = sseClient(a, `/shop/live/${code}/events`);
    await viewer.connected();
    expect(viewer.status).toBe(200);
    // Two features on B; A's viewer gets each, in order.
    expect((await host("POST", `/${id}/feature`, { itemId: items[1] })).status).toBe(200);
    expect(featuredItem(await viewer.next("featured", (e) => featuredItem(e) === items[1]))).toBe(items[1]);
    expect((await host("POST", `/${id}/feature`, { itemId: items[2] })).status).toBe(200);
    expect(featuredItem(await viewer.next("featured", (e) => featuredItem(e) === items[2]))).toBe(items[2]);

    // Cut every instance's listening connection; each reconnects by itself.
    const cut = await onServer(t.url, (c) => c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bazaarche-broadcast' AND datname = current_database()`));
    expect(cut.rowCount).toBe(2);
    await expect
      .poll(async () => Number((await onServer(t.url, (c) => c.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'bazaarche-broadcast' AND datname = current_database() AND query ILIKE 'LISTEN%'`))).rows[0].n), { timeout: 30_000, interval: 100 })
      .toBe(2);
    expect((await host("POST", `/${id}/feature`, { itemId: items[0] })).status).toBe(200);
    expect(featuredItem(await viewer.next("featured", (e) => featuredItem(e) === items[0]))).toBe(items[0]);
    viewer.close();
  });

  it("delivers a message to subscribers of its channel on every instance, the sender's included, and refuses one too large for NOTIFY", async () => {
    const one = new PostgresBroadcaster(t.url);
    const two = new PostgresBroadcaster(t.url);
    try {
      await Promise.all([one.start(), two.start()]);
      const heard: { who: string; m: BroadcastMessage }[] = [];
      const got = (n: number) => expect.poll(() => heard.length, { timeout: 10_000, interval: 20 }).toBe(n);
      one.subscribe("live:x", (m) => heard.push({ who: "one", m }));
      two.subscribe("live:x", (m) => heard.push({ who: "two", m }));
      two.subscribe("live:other", (m) => heard.push({ who: "two-other", m }));
      await one.publish("live:x", { type: "wake", n: 1 });
      await got(2);
      expect(heard.map((h) => h.who).sort()).toEqual(["one", "two"]);
      expect(heard.every((h) => h.m.type === "wake" && h.m.n === 1)).toBe(true);
      await expect(one.publish("live:x", { type: "big", text: "x".repeat(9000) })).rejects.toThrow(/too large/);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
