import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin } from "./helpers/factories.js";
import { cookieNamed, csrfFrom, load, setCookies, signIn } from "./helpers/html.js";

let t: TestApp;
let admin: { email: string; password: string };
beforeAll(async () => {
  t = await buildTestApp();
  admin = await createAdmin(t.deps, { email: "owner@example.com", password: "a long and good password" });
});
afterAll(() => t.close());

describe("admin sign-in", () => {
  it("stores the password as argon2id, never in the clear", async () => {
    const row = await t.db.adminUser.findUniqueOrThrow({ where: { email: "owner@example.com" } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.passwordHash).not.toContain(admin.password);
  });

  it("signs in with a session cookie that is httpOnly and SameSite=Lax, and stores only its hash", async () => {
    const agent = request.agent(t.app);
    const res = await signIn(agent, "OWNER@example.com ", admin.password);
    expect(res.status).toBe(303);
    const cookie = cookieNamed(res, "bz_admin")!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i);
    const value = decodeURIComponent(cookie.split(";")[0]!.split("=")[1]!);
    const sessions = await t.db.adminSession.findMany();
    expect(sessions.some((s) => s.tokenHash === value)).toBe(false);
    const dash = await agent.get("/shop/admin").expect(200);
    expect(load(dash.text)("h1").text()).toBe("Dashboard");
  });

  it("marks the cookie Secure when the request came over HTTPS through a trusted proxy", async () => {
    const proxied = await buildTestApp({ trustProxy: 1 });
    try {
      const who = await createAdmin(proxied.deps);
      const page = await request(proxied.app).get("/shop/admin/login").set("X-Forwarded-Proto", "https").expect(200);
      const csrfCookie = cookieNamed(page, "bz_csrf")!;
      expect(csrfCookie).toMatch(/Secure/);
      // A Secure cookie is not sent back over plain http, so the test carries it by hand.
      const res = await request(proxied.app)
        .post("/shop/admin/login")
        .set("X-Forwarded-Proto", "https")
        .set("Cookie", csrfCookie.split(";")[0]!)
        .type("form")
        .send({ _csrf: csrfFrom(page.text), email: who.email, password: who.password })
        .expect(303);
      const cookie = cookieNamed(res, "bz_admin")!;
      expect(cookie).toMatch(/Secure/);
    } finally {
      await proxied.close();
    }
  });

  it("refuses a wrong password with the same message as an unknown email, and sets no session", async () => {
    const wrong = await signIn(request.agent(t.app), admin.email, "nope");
    const unknown = await signIn(request.agent(t.app), "nobody@example.com", "nope");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(load(wrong.text)("#login-error").text()).toBe(load(unknown.text)("#login-error").text());
    expect(setCookies(wrong).join()).not.toContain("bz_admin=");
  });

  it("refuses a malformed sign-in form with a 400 that says what is missing", async () => {
    const agent = request.agent(t.app);
    const page = await agent.get("/shop/admin/login");
    const res = await agent.post("/shop/admin/login").type("form").send({ _csrf: csrfFrom(page.text), email: "not-an-email", password: "" });
    expect(res.status).toBe(400);
    expect(load(res.text)("#login-error").text()).toContain("Enter the admin email address.");
  });

  it("only follows same-site return paths after sign-in", async () => {
    const agent = request.agent(t.app);
    const page = await agent.get("/shop/admin/login");
    const res = await agent
      .post("/shop/admin/login")
      .type("form")
      .send({ _csrf: csrfFrom(page.text), email: admin.email, password: admin.password, returnTo: "//evil.example/x" });
    expect(res.headers.location).toBe("/shop/admin");
  });

  it("expires sessions after their lifetime", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    await t.db.adminSession.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } });
    await agent.get("/shop/admin").expect(303);
  });

  it("signing out ends the session on the server", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    const before = await t.db.adminSession.count();
    const page = await agent.get("/shop/admin").expect(200);
    await agent.post("/shop/admin/logout").type("form").send({ _csrf: csrfFrom(page.text) }).expect(303);
    expect(await t.db.adminSession.count()).toBe(before - 1);
    await agent.get("/shop/admin").expect(303);
  });
});

describe("CSRF", () => {
  it("refuses an admin form post without a CSRF token, and writes nothing", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    const before = await t.db.apiToken.count();
    const res = await agent.post("/shop/admin/tokens").type("form").send({ name: "sneaky" });
    expect(res.status).toBe(403);
    expect(res.text).toContain("did not come from this shop");
    const json = await agent.post("/shop/admin/tokens").set("Accept", "application/json").type("form").send({ name: "sneaky", _csrf: "forged" });
    expect(json.status).toBe(403);
    expect(json.body.error.code).toBe("csrf_invalid");
    expect(await t.db.apiToken.count()).toBe(before);
  });

  it("refuses a token minted for another browser's cookie", async () => {
    const attacker = request.agent(t.app);
    const attackerPage = await attacker.get("/shop/admin/login");
    const victim = request.agent(t.app);
    await signIn(victim, admin.email, admin.password);
    const res = await victim.post("/shop/admin/tokens").type("form").send({ name: "x", _csrf: csrfFrom(attackerPage.text) });
    expect(res.status).toBe(403);
  });

  it("refuses a cross-site multipart post even on a route that never reads its body", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    const { apiToken } = await (await import("../src/auth/auth.service.js")).createApiToken(t.deps, { name: "victim" });
    const forged = await agent.post(`/shop/admin/tokens/${apiToken.id}/revoke`).field("x", "1");
    expect(forged.status).toBe(403);
    expect((await t.db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } })).revokedAt).toBeNull();
    // Our own multipart forms carry the token in the action URL.
    const page = await agent.get("/shop/admin/tokens");
    await agent.post(`/shop/admin/tokens/${apiToken.id}/revoke?_csrf=${encodeURIComponent(csrfFrom(page.text))}`).field("x", "1").expect(303);
    expect((await t.db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } })).revokedAt).not.toBeNull();
  });

  it("still needs the token when a cookie-authenticated request carries an Authorization header that did not authenticate it", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    const { token: validToken } = await (await import("../src/auth/auth.service.js")).createApiToken(t.deps, { name: "real token" });
    const victim = await (await import("../src/auth/auth.service.js")).createApiToken(t.deps, { name: "victim 2" });
    const before = await t.db.apiToken.count();
    // A junk bearer, a malformed one, and even a valid API token: none of them is what authenticates /admin.
    for (const authorization of ["Bearer x", "Bearer ", "bearer junk-junk-junk-junk", `Bearer ${validToken}`]) {
      const create = await agent.post("/shop/admin/tokens").set("Authorization", authorization).set("Accept", "application/json").type("form").send({ name: "sneaky" });
      expect(create.status, authorization).toBe(403);
      expect(create.body.error.code).toBe("csrf_invalid");
      const revoke = await agent.post(`/shop/admin/tokens/${victim.apiToken.id}/revoke`).set("Authorization", authorization).type("form").send({});
      expect(revoke.status, authorization).toBe(403);
    }
    expect(await t.db.apiToken.count()).toBe(before);
    expect((await t.db.apiToken.findUniqueOrThrow({ where: { id: victim.apiToken.id } })).revokedAt).toBeNull();
    // The API itself, authenticated by that valid token, needs no CSRF token (it takes no cookies).
    await request(t.app).post("/shop/api/v1/tokens").set("Authorization", `Bearer ${validToken}`).send({ name: "from the API" }).expect(201);
  });

  it("refuses the login form itself without a token", async () => {
    const res = await request(t.app).post("/shop/admin/login").type("form").send({ email: admin.email, password: admin.password });
    expect(res.status).toBe(403);
  });
});

describe("API tokens in the admin", () => {
  it("creates a token shown once, which then works on the API, and revokes it", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    const page = await agent.get("/shop/admin/tokens").expect(200);
    const created = await agent.post("/shop/admin/tokens").type("form").send({ _csrf: csrfFrom(page.text), name: "Zapier" }).expect(201);
    const token = load(created.text)("#new-token").text();
    expect(token).toMatch(/^bz_[A-Za-z0-9_-]{40,}$/);
    const row = await t.db.apiToken.findFirstOrThrow({ where: { name: "Zapier" } });
    expect(row.tokenHash).not.toBe(token);

    await request(t.app).get("/shop/api/v1/me").set("Authorization", `Bearer ${token}`).expect(200);
    const list = await agent.get("/shop/admin/tokens").expect(200);
    expect(list.text).not.toContain(token);

    await agent.post(`/shop/admin/tokens/${row.id}/revoke`).type("form").send({ _csrf: csrfFrom(list.text) }).expect(303);
    await request(t.app).get("/shop/api/v1/me").set("Authorization", `Bearer ${token}`).expect(401);
  });

  it("rejects unknown fields and empty names on the admin form", async () => {
    const agent = request.agent(t.app);
    await signIn(agent, admin.email, admin.password);
    const page = await agent.get("/shop/admin/tokens");
    const res = await agent.post("/shop/admin/tokens").set("Accept", "application/json").type("form").send({ _csrf: csrfFrom(page.text), name: " ", admin: "1" });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["(root)", "name"]);
  });
});

describe("login rate limiting", () => {
  it("answers 429 after too many attempts from one address", async () => {
    const limited = await buildTestApp({ loginRateLimit: { windowMs: 60_000, limit: 3 } });
    try {
      const who = await createAdmin(limited.deps);
      const agent = request.agent(limited.app);
      const page = await agent.get("/shop/admin/login");
      const attempt = () => agent.post("/shop/admin/login").type("form").send({ _csrf: csrfFrom(page.text), email: who.email, password: "wrong" });
      for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
      const blocked = await attempt();
      expect(blocked.status).toBe(429);
      expect(blocked.text).toContain("Too many sign-in attempts");
      // Even the right password is refused until the window passes.
      const right = await agent.post("/shop/admin/login").type("form").send({ _csrf: csrfFrom(page.text), email: who.email, password: who.password });
      expect(right.status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});
