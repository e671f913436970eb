import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { load } from "./helpers/html.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe("error shape", () => {
  it("answers unknown routes with JSON for API clients", async () => {
    const res = await request(t.app).get("/shop/nowhere").set("Accept", "application/json").expect(404);
    expect(res.body).toEqual({ error: { code: "not_found", message: "No route for GET /shop/nowhere.", details: null } });
  });

  it("answers unknown routes with an HTML page for browsers", async () => {
    const res = await request(t.app).get("/shop/nowhere").set("Accept", "text/html").expect(404);
    const $ = load(res.text);
    expect($("h1").text()).toBe("We could not find that page.");
    expect($(".site-header").length).toBe(1);
    expect(res.headers["x-request-id"]).toBeTruthy();
    expect(res.text).toContain(res.headers["x-request-id"]);
  });

  it("answers malformed JSON bodies with 400 invalid_json", async () => {
    const res = await request(t.app).post("/shop/anything").set("Content-Type", "application/json").set("Accept", "application/json").send("{oops");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
  });

  it("answers oversized bodies with 413", async () => {
    const res = await request(t.app)
      .post("/shop/anything")
      .set("Content-Type", "application/json")
      .set("Accept", "application/json")
      .send(JSON.stringify({ x: "a".repeat(1_100_000) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("never leaks internals in a 5xx, as JSON or HTML", async () => {
    const broken = await buildTestApp();
    try {
      // Break the database under the running app: every catalog query now fails.
      await broken.db.$executeRawUnsafe('DROP TABLE "ProductTranslation"');
      const json = await request(broken.app).get("/shop/").set("Accept", "application/json").expect(500);
      expect(json.body).toEqual({ error: { code: "internal_error", message: "Something went wrong on our side. Please try again.", details: null } });
      const html = await request(broken.app).get("/shop/").set("Accept", "text/html").expect(500);
      expect(html.text).toContain("Something went wrong");
      for (const body of [JSON.stringify(json.body), html.text]) {
        expect(body).not.toMatch(/ProductTranslation|prisma|at .*\.ts:\d+|no such table/i);
      }
    } finally {
      await broken.close();
    }
  });

  it("passes a client-chosen request id through, and replaces an unsafe one", async () => {
    const ok = await request(t.app).get("/shop/health").set("X-Request-Id", "abc-123");
    expect(ok.headers["x-request-id"]).toBe("abc-123");
    const bad = await request(t.app).get("/shop/health").set("X-Request-Id", "<script>");
    expect(bad.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("security headers", () => {
  it("sends a CSP that allows only our own resources, with no nonce and no inline script", async () => {
    const a = await request(t.app).get("/shop/").expect(200);
    const csp = a.headers["content-security-policy"];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("nonce-");
    expect(a.headers["x-content-type-options"]).toBe("nosniff");
    expect(a.headers["x-powered-by"]).toBeUndefined();
  });

  it("has no inline style or event-handler attributes the CSP would block", async () => {
    for (const path of ["/shop/", "/shop/admin/login", "/shop/nowhere"]) {
      const res = await request(t.app).get(path).set("Accept", "text/html");
      const $ = load(res.text);
      expect($("[style]").length).toBe(0);
      expect($("style").length).toBe(0);
      const handlers = $("*")
        .toArray()
        .flatMap((el) => Object.keys((el as unknown as { attribs: Record<string, string> }).attribs ?? {}))
        .filter((name) => name.startsWith("on"));
      expect(handlers).toEqual([]);
      // Inline blocks are data (JSON-LD, JSON), which browsers never run and the CSP does not govern.
      $("script:not([src])").each((_, el) => {
        expect(["application/ld+json", "application/json"]).toContain($(el).attr("type"));
      });
    }
  });
});

describe("health and readiness", () => {
  it("reports liveness and readiness, and not ready while draining", async () => {
    await request(t.app).get("/shop/health").expect(200, { status: "ok" });
    await request(t.app).get("/shop/ready").expect(200, { status: "ready" });
    const draining = await buildTestApp();
    try {
      draining.shop.bazaarche.beginShutdown();
      await request(draining.app).get("/shop/ready").expect(503, { status: "draining" });
      await request(draining.app).get("/shop/health").expect(200);
    } finally {
      await draining.close();
    }
  });
});
