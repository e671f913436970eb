import http from "node:http";
import type { Express } from "express";
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import type { Deps } from "../../src/deps.js";
import { createProduct, createToken, type VariantOverrides } from "./factories.js";
import { csrfForPage } from "./html.js";

/** The /api/v1/live routes with a Bearer token, as another tool would drive a show. */
export async function liveApi(app: Express, deps: Deps) {
  const auth = { Authorization: `Bearer ${(await createToken(deps)).token}` };
  const post = (path: string, body: unknown = {}) => request(app).post(`/shop/api/v1/live${path}`).set(auth).send(body as object);
  return {
    auth,
    post,
    get: (path: string) => request(app).get(`/shop/api/v1/live${path}`).set(auth),
    patch: (path: string, body: unknown) => request(app).patch(`/shop/api/v1/live${path}`).set(auth).send(body as object),
    create: (body: Record<string, unknown> = {}) => post("", { title: "Friday mugs", hostName: "Ava", platform: "instagram", startsAt: new Date(Date.now() + 3600_000).toISOString(), ...body }),
    addItem: (id: string, body: Record<string, unknown>) => post(`/${id}/items`, body),
    start: (id: string) => post(`/${id}/start`),
    end: (id: string) => post(`/${id}/end`),
    feature: (id: string, itemId: string) => post(`/${id}/feature`, { itemId }),
    comments: (id: string, comments: { handle: string; platform?: string; text: string }[]) => post(`/${id}/comments`, { comments: comments.map((c) => ({ platform: "instagram", ...c })) }),
  };
}

export type LiveApi = Awaited<ReturnType<typeof liveApi>>;

/**
 * A show with one lineup item per product spec, started (unless `start: false`).
 * Returns the session, its items and the products.
 */
export async function liveShow(
  app: Express,
  deps: Deps,
  api: LiveApi,
  spec: {
    start?: boolean;
    holdMinutes?: number;
    code?: string;
    items: { claimCode: string; variants?: VariantOverrides[]; optionNames?: string[]; title?: string; titleFa?: string; livePriceMinor?: number; perBuyerLimit?: number; quantityCap?: number; followerPriceMinor?: number; followerMinDays?: number; image?: boolean }[];
  },
) {
  const created = await api.create({ holdMinutes: spec.holdMinutes ?? 15, ...(spec.code ? { code: spec.code } : {}) }).expect(201);
  const session = created.body.data as { id: string; code: string };
  const items: { id: string; productId: string; variants: { id: string; option1: string | null; priceMinor: number; stock: number }[] }[] = [];
  for (const it of spec.items) {
    const product = await createProduct(deps, { variants: it.variants ?? [{ stock: 10 }], optionNames: it.optionNames, title: it.title, titleFa: it.titleFa, image: it.image });
    const { claimCode, livePriceMinor, perBuyerLimit, quantityCap, followerPriceMinor, followerMinDays } = it;
    const res = await api.addItem(session.id, { productId: product.id, claimCode, livePriceMinor, perBuyerLimit, quantityCap, followerPriceMinor, followerMinDays }).expect(201);
    items.push({ id: res.body.data.id, productId: product.id, variants: product.variants });
  }
  if (spec.start !== false) await api.start(session.id).expect(200);
  return { session, items };
}

/**
 * A viewer's phone: its own cookies (viewer id, CSRF), the page loaded once.
 * A first visit gets the page for everyone (no token, no viewer id): like
 * shop.js and live.js, the phone then asks session.json for its token and
 * /you for its viewer id.
 */
export async function newViewer(app: Express, code: string, opts: { lang?: "en" | "fa"; userAgent?: string } = {}) {
  const agent = request.agent(app);
  const page = await agent.get(`/shop/live/${code}${opts.lang ? `?lang=${opts.lang}` : ""}`).set("User-Agent", opts.userAgent ?? "Mozilla/5.0 (iPhone) Mobile").expect(200);
  const firstVisit = page.headers["cache-control"]?.startsWith("public");
  const csrf = await csrfForPage(agent, page);
  // What live.js does before the first claim from that page: get a viewer id.
  const you = firstVisit ? await agent.get(`/shop/live/${code}/you`).set("Accept", "application/json").expect(200) : null;
  const setCookies = [page, you].flatMap((res) => (res?.headers["set-cookie"] as unknown as string[] | undefined) ?? []);
  /** The viewer id cookie ("bz_live=…"), as this phone sends it. */
  const viewerCookie = setCookies.find((c) => c.startsWith("bz_live="))?.split(";")[0];
  return {
    agent,
    csrf,
    page,
    viewerCookie,
    claim: (itemId: string, variantId: string, quantity = 1, extra: Record<string, unknown> = {}) =>
      agent.post(`/shop/live/${code}/claims`).set("X-CSRF-Token", csrf).set("Accept", "application/json").send({ itemId, variantId, quantity, ...extra }),
    checkout: (extra: Record<string, unknown> = {}) => agent.post(`/shop/live/${code}/checkout`).type("form").send({ _csrf: csrf, ...extra }),
    you: () => agent.get(`/shop/live/${code}/you`).set("Accept", "application/json"),
  };
}

export type Viewer = Awaited<ReturnType<typeof newViewer>>;

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A raw Server-Sent Events client over node:http (what EventSource does),
 * so tests can read frames as they arrive, send Last-Event-ID, stop reading
 * (pause the socket) and hang up.
 */
export function sseClient(origin: string, path: string, opts: { lastEventId?: string; headers?: Record<string, string> } = {}) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  let status = 0;
  let buffer = "";
  let closed = false;
  const check = () => {
    for (const w of [...waiters]) {
      if (w.test()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  let res: http.IncomingMessage | null = null;
  const req = http.get(`${origin}${path}`, { headers: { Accept: "text/event-stream", ...(opts.lastEventId ? { "Last-Event-ID": opts.lastEventId } : {}), ...opts.headers } }, (r) => {
    res = r;
    status = r.statusCode ?? 0;
    r.setEncoding("utf8");
    r.on("data", (chunk: string) => {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const e: SseEvent = { event: "message", data: "" };
        let isEvent = false;
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments.push(line.slice(1).trim());
          else if (line.startsWith("id: ")) e.id = line.slice(4);
          else if (line.startsWith("event: ")) ((e.event = line.slice(7)), (isEvent = true));
          else if (line.startsWith("data: ")) ((e.data += line.slice(6)), (isEvent = true));
        }
        if (isEvent) events.push(e);
      }
      check();
    });
    r.on("close", () => {
      closed = true;
      check();
    });
    check();
  });
  req.on("error", () => {
    closed = true;
    check();
  });
  const until = (test: () => boolean, what: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (test()) return resolve();
      const timer = setTimeout(() => reject(new Error(`SSE: timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => e.event))}`)), timeoutMs);
      waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return {
    events,
    comments,
    get status() {
      return status;
    },
    get closed() {
      return closed;
    },
    connected: () => until(() => status !== 0, "the response headers"),
    /** Resolves with the first event of that type (optionally matching) not yet returned. */
    next: async (type: string, match: (e: SseEvent) => boolean = () => true) => {
      let found: SseEvent | undefined;
      await until(() => !!(found = events.find((e) => e.event === type && match(e) && !(e as { taken?: boolean }).taken)), `event "${type}"`);
      (found as { taken?: boolean }).taken = true;
      return found!;
    },
    waitFor: until,
    /** Stops reading: the kernel buffers fill and the server sees a slow reader. */
    pause: () => {
      (res as http.IncomingMessage | null)?.pause();
      (req.socket as import("node:net").Socket | null)?.pause();
    },
    close: () => {
      req.destroy();
    },
  };
}

export type { TestAgent };
