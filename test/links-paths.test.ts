import express from "express";
import fc from "fast-check";
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkShopPath } from "../src/links/links.schema.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createToken } from "./helpers/factories.js";
import { csrfFrom, load, signIn } from "./helpers/html.js";
import { BROWSER_UA, createLink } from "./helpers/post-factories.js";

/**
 * Page links may only lead to shopper pages. The check must see a path the
 * way routing does (Express matches case-insensitively; browsers resolve dot
 * segments; proxies may decode escapes), so these tests attack it with the
 * whole class of spellings of each refused area, not with one example.
 */

let t: TestApp;
let agent: TestAgent;
let csrf: string;
let auth: { Authorization: string };
beforeAll(async () => {
  t = await buildTestApp();
  const { email, password } = await createAdmin(t.deps);
  agent = request.agent(t.app);
  await signIn(agent, email, password);
  csrf = csrfFrom((await agent.get("/shop/admin/links").expect(200)).text);
  auth = { Authorization: `Bearer ${(await createToken(t.deps)).token}` };
});
afterAll(() => t.close());

/** The first segments of the storefront's areas that are not shopper pages, with something after them. */
const AREAS = ["admin", "admin/tokens", "api/v1/me", "feeds/google.xml", "webhooks/stripe", "embed/gallery.js", "l/spring", "media/x.jpg", "assets/app.css", "health", "ready"];

const pct = (c: string) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
/** Characters that NFKC plus lower-casing turn into the letter: long s, Kelvin sign, fullwidth forms. */
const LOOKALIKES: Record<string, string[]> = {
  s: ["\u017f", "\uff53"],
  k: ["\u212a", "\uff4b"],
  a: ["\uff41", "\uff21"],
  d: ["\uff44"],
  m: ["\uff4d"],
  i: ["\uff49"],
  n: ["\uff4e"],
  e: ["\uff45"],
};

/** One character of a refused area, spelt any of the ways a router or proxy reads as that character. */
const spelling = (c: string) =>
  /[a-z]/.test(c)
    ? fc.oneof(
        fc.constant(c),
        fc.constant(c.toUpperCase()),
        fc.constant(pct(c)),
        fc.constant(pct(c).toLowerCase()),
        fc.constant(pct(c.toUpperCase())),
        fc.constant(`%25${pct(c).slice(1)}`), // double-encoded: %2561
        ...(LOOKALIKES[c] ?? []).flatMap((l) => [fc.constant(pct(l)), fc.constant(l)]),
      )
    : fc.constant(c);

const refusedSpelling = fc
  .tuple(
    fc.constantFrom(...AREAS).chain((area) => fc.tuple(...[...area].map(spelling)).map((chars) => chars.join(""))),
    fc.constantFrom("", "/", "//", "/.", "/./", "?x=1", ";jsessionid=1", ".", "/%2e"),
    fc.constantFrom("", "/./", "/x/../", "/%2e/", "/x/%2e%2e/", "///"),
  )
  .map(([area, suffix, prefix]) => `/${prefix.replace(/^\//, "")}${area}${suffix}`.replace(/^\/\//, "/"));

describe("page links into non-shopper areas", () => {
  it("are refused however the area is spelt: the examples from the probe", async () => {
    const before = await t.db.shortLink.count();
    for (const path of ["/ADMIN", "/Admin/", "/%61dmin", "/%41DMIN/tokens", "/api/../admin", "/Api/V1/me", "/L/spring", "/%2561dmin", "/webhoo%E2%84%AAs/stripe", "/%C5%BFtuff/../assets", "/a%C5%BFsets/x.css", "/%EF%BD%86eeds/google.xml", "/admin;x=1", "/admin.", "/FEEDS/"]) {
      const res = await request(t.app).post("/shop/api/v1/links").set(auth).send({ targetType: "page", path, channel: "x" });
      expect(res.status, path).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field), path).toEqual(["path"]);
    }
    expect(await t.db.shortLink.count()).toBe(before);
  });

  it("are refused for every generated spelling (case, escapes, double escapes, look-alikes, dot segments, slashes, suffixes), through the API", async () => {
    const before = await t.db.shortLink.count();
    await fc.assert(
      fc.asyncProperty(refusedSpelling, async (path) => {
        const res = await request(t.app).post("/shop/api/v1/links").set(auth).send({ targetType: "page", path, channel: "x" });
        expect(res.status, path).toBe(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field), path).toEqual(["path"]);
      }),
      { numRuns: 150 },
    );
    expect(await t.db.shortLink.count()).toBe(before);
  });

  it("are refused by the admin form too, with the problem shown at the path field", async () => {
    for (const path of ["/ADMIN", "/Admin/", "/%61dmin/tokens"]) {
      const res = await agent.post("/shop/admin/links").type("form").send({ _csrf: csrf, targetType: "page", path, channel: "tiktok" });
      expect(res.status, path).toBe(400);
      expect(load(res.text)("#link-path-error").text(), path).toContain("not a shopper page");
    }
  });

  it("a stored row that slipped past (edited by hand) sends the click to the home page, not the admin", async () => {
    const link = await createLink(t.deps, { targetType: "page", path: "/ADMIN/tokens", code: "sneaky-case" });
    const res = await request(t.app).get(`/shop/l/${link.code}`).set("User-Agent", BROWSER_UA).expect(302);
    expect(res.headers.location).toBe("/shop/");
  });

  it("shopper pages in any spelling are still accepted", async () => {
    for (const path of ["/", "/gallery?available=1", "/p/blue-mug", "/P/Blue-Mug", "/posts/abc", "/administrator-notes", "/apiary", "/top-rated?collection=tea", "/cart"]) {
      expect(checkShopPath(path), path).toBeNull();
    }
  });
});

/**
 * The other direction, checked by Express itself: for any path the check
 * accepts, a browser resolving it and Express routing it (with the
 * storefront's own mounts and settings) never reach a non-shopper area.
 */
describe("what the check accepts, Express does not route into a refused area", () => {
  const probe = express();
  const shop = express();
  for (const area of ["/admin", "/api/v1", "/feeds", "/webhooks", "/embed", "/media", "/assets", "/health", "/ready"]) shop.use(area, (_req, res) => void res.send(`HIT ${area}`));
  shop.get("/l/:code", (_req, res) => void res.send("HIT /l"));
  shop.use((_req, res) => void res.status(404).send("shopper page or 404"));
  probe.use("/shop", shop);

  const piece = fc.constantFrom("a", "A", "d", "D", "m", "i", "n", "I", "N", "s", "S", "e", "f", "l", "L", "p", "k", "/", "/", ".", "..", "%61", "%41", "%2e", "%2E", ";", "%25", "-", "x", "api", "admin", "feeds", "v1", "ADMIN", "Admin", "Api", "FEEDS", "Health");
  const candidate = fc.array(piece, { minLength: 1, maxLength: 12 }).map((parts) => `/${parts.join("")}`);

  it("holds for generated paths", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(candidate, async (path) => {
        if (checkShopPath(path) !== null) return;
        accepted++;
        const url = new URL(`/shop${path}`, "http://127.0.0.1");
        const res = await request(probe).get(`${url.pathname}${url.search}`);
        expect(res.text, path).toBe("shopper page or 404");
      }),
      { numRuns: 400 },
    );
    // The property is about accepted paths: make sure it saw plenty of them.
    expect(accepted).toBeGreaterThan(50);
  });
});
