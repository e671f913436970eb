import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, MOUNT, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct } from "./helpers/factories.js";
import { setCookies, signIn, urlsIn } from "./helpers/html.js";

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
  await createProduct(t.deps, { slug: "mounted-mug", variants: [{ option1: "A" }, { option1: "B" }], image: true });
  await t.db.product.update({ where: { slug: "mounted-mug" }, data: { title: "Mounted Mug" } });
  // A second image so the thumbnail strip (and its data-* URLs) renders.
  const p = await t.db.product.findUniqueOrThrow({ where: { slug: "mounted-mug" }, include: { images: true } });
  await t.db.productImage.create({ data: { productId: p.id, mediaId: p.images[0]!.mediaId, position: 1 } });
});
afterAll(() => t.close());

/** Every URL on the page is either external (http…) or under the mount path. */
function expectAllUnderMount(html: string) {
  const urls = urlsIn(html);
  expect(urls.length).toBeGreaterThan(3);
  for (const u of urls) {
    if (/^https?:\/\//.test(u)) {
      // Absolute URLs we generate (og:url, og:image, canonical) are under the mount too.
      const url = new URL(u);
      if (url.host === "127.0.0.1" || url.host.startsWith("127.0.0.1:")) expect(url.pathname.startsWith(`${MOUNT}/`) || url.pathname === MOUNT).toBe(true);
      continue;
    }
    expect(u, `${u} should start with ${MOUNT}/`).toMatch(new RegExp(`^${MOUNT}(/|$|\\?)`));
  }
}

describe("mounted at /shop inside a host app", () => {
  it("keeps the host's own routes working", async () => {
    const res = await request(t.app).get("/").expect(200);
    expect(res.text).toBe("host home");
  });

  it("renders every link, asset, srcset and form action under /shop on shopper pages", async () => {
    for (const path of ["/", "/p/mounted-mug", "/p/mounted-mug?lang=fa", "/no-such-page"]) {
      const res = await request(t.app).get(`${MOUNT}${path}`).set("Accept", "text/html");
      expect(res.headers["content-type"]).toMatch(/html/);
      expectAllUnderMount(res.text);
    }
  });

  it("serves the assets those pages point at", async () => {
    const res = await request(t.app).get(`${MOUNT}/p/mounted-mug`).expect(200);
    const local = urlsIn(res.text).filter((u) => u.startsWith(`${MOUNT}/assets/`) || u.startsWith(`${MOUNT}/media/`));
    expect(local.length).toBeGreaterThan(3);
    for (const u of new Set(local)) await request(t.app).get(u).expect(200);
    // The Persian font: linked from Persian pages only, by a stylesheet whose
    // relative url() resolves under the mount path too.
    const fa = await request(t.app).get(`${MOUNT}/p/mounted-mug?lang=fa`).expect(200);
    const faCss = urlsIn(fa.text).find((u) => /\/assets\/css\/fa\.[0-9a-f]{8}\.css$/.test(u))!;
    const css = await request(t.app).get(faCss).expect(200);
    const font = /url\("(\.\.\/fonts\/vazirmatn\.[0-9a-f]{8}\.woff2)"\)/.exec(css.text)?.[1];
    expect(font).toBeDefined();
    await request(t.app).get(new URL(font!, `http://x${faCss}`).pathname).expect(200).expect("content-type", /font\/woff2/);
  });

  it("keeps admin pages, redirects and cookies under /shop", async () => {
    const redirect = await request(t.app).get(`${MOUNT}/admin`).expect(303);
    expect(redirect.headers.location).toBe(`${MOUNT}/admin/login?returnTo=${encodeURIComponent(`${MOUNT}/admin`)}`);

    const { email, password } = await createAdmin(t.deps);
    const agent = request.agent(t.app);
    const login = await signIn(agent, email, password);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe(`${MOUNT}/admin`);
    for (const cookie of setCookies(login)) expect(cookie).toMatch(new RegExp(`Path=${MOUNT}(;|$)`));

    for (const path of ["/admin", "/admin/tokens"]) {
      const page = await agent.get(`${MOUNT}${path}`).expect(200);
      expectAllUnderMount(page.text);
    }
    const loginPage = await request(t.app).get(`${MOUNT}/admin/login`).expect(200);
    expectAllUnderMount(loginPage.text);

    const logout = await agent.get(`${MOUNT}/admin`).expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(logout.text)![1]!;
    const out = await agent.post(`${MOUNT}/admin/logout`).type("form").send({ _csrf: csrf }).expect(303);
    expect(out.headers.location).toBe(`${MOUNT}/admin/login`);
  });

  it("builds absolute URLs from the request when no public URL is configured", async () => {
    const res = await request(t.app).get(`${MOUNT}/p/mounted-mug`).set("Host", "host.test").expect(200);
    expect(res.text).toContain('property="og:url" content="http://host.test/shop/p/mounted-mug"');
  });
});
