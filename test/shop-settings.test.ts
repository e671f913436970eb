/**
 * Admin → Shop settings: name override, logo, bio in both languages, social
 * links, where the shop sells and its return policy; and what shoppers see of
 * them on the home page and the gallery.
 */
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPost, createTag } from "./helpers/post-factories.js";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { createAdmin, createProduct, testImage } from "./helpers/factories.js";
import { load, signIn } from "./helpers/html.js";

let t: TestApp;
let agent: TestAgent;

beforeAll(async () => {
  t = await buildTestApp({ shopName: "Configured Name", publicUrl: "https://shop.example/shop" });
  const { email, password } = await createAdmin(t.deps);
  agent = request.agent(t.app);
  await signIn(agent, email, password);
});
afterAll(() => t.close());

async function formAction(lang = "en") {
  const page = await agent.get(`/shop/admin/shop?lang=${lang}`).expect(200);
  return { $: load(page.text), action: load(page.text)("form.settings-form").attr("action")! };
}

function submit(action: string, fields: Record<string, string | string[]>, logo?: Buffer) {
  let req = agent.post(action);
  for (const [k, v] of Object.entries(fields)) for (const one of ([] as string[]).concat(v)) req = req.field(k, one);
  if (logo) req = req.attach("logo", logo, { filename: "logo.png", contentType: "image/png" });
  return req;
}

const valid = {
  name: "Tea & Clay",
  bioEn: "Pottery from our studio in Isfahan.",
  bioFa: "سفال از کارگاه ما در اصفهان.",
  social_instagram: "@teaandclay",
  social_tiktok: "https://www.tiktok.com/@teaandclay",
  social_whatsapp: "+1 (555) 123-4567",
  social_youtube: "",
  countries: ["US", "DE"],
  returnsDays: "30",
  returnsFee: "free",
  returnsFeeAmount: "",
  returnsCountry: "US",
};

describe("shop settings", () => {
  it("needs a signed-in admin, and has its own entry in the admin menu", async () => {
    await request(t.app).get("/shop/admin/shop").expect(303);
    const { $ } = await formAction();
    expect($('.admin-nav a[aria-current="page"]').attr("href")).toBe("/shop/admin/shop");
    expect($("h1").text()).toBe("Shop settings");
    expect($("#name-hint").text()).toContain("Configured Name");
  });

  it("refuses a logo that is not an image, naming the field, and changes nothing", async () => {
    const { action } = await formAction();
    const res = await submit(action, valid, Buffer.from("not an image")).expect(400);
    // The form comes back with the problem under the logo field.
    expect(load(res.text)("#logo-error").text()).not.toBe("");
    expect(await t.db.setting.findUnique({ where: { key: "shop.profile" } })).toBeNull();
  });

  it("saves name, bio, logo, social links, countries and returns; the home page shows them in each language", async () => {
    const { action } = await formAction();
    const logo = await testImage({ width: 400, height: 400, color: "#b7791f" });
    const res = await submit(action, valid, logo).expect(303);
    expect(res.headers.location).toBe("/shop/admin/shop?saved=1");

    const stored = JSON.parse((await t.db.setting.findUniqueOrThrow({ where: { key: "shop.profile" } })).value);
    expect(stored).toMatchObject({
      name: "Tea & Clay",
      bio: { en: "Pottery from our studio in Isfahan.", fa: "سفال از کارگاه ما در اصفهان." },
      socials: { instagram: "https://www.instagram.com/teaandclay/", tiktok: "https://www.tiktok.com/@teaandclay", whatsapp: "https://wa.me/15551234567" },
      countries: ["US", "DE"],
      returns: { days: 30, fee: "free", feeMinor: null, country: "US" },
    });
    expect(stored.socials.youtube).toBeUndefined();
    expect(await t.db.auditLog.count({ where: { action: "shop.settings" } })).toBe(1);

    const en = load((await request(t.app).get("/shop/?lang=en").expect(200)).text);
    expect(en("title").text()).toBe("Tea & Clay");
    expect(en(".site-header .brand").text().trim()).toBe("Tea & Clay");
    expect(en("#shop-name").text()).toBe("Tea & Clay");
    expect(en(".shop-intro__bio").text()).toBe("Pottery from our studio in Isfahan.");
    expect(en(".shop-intro .shop-logo").attr("src")).toMatch(/^\/shop\/media\/[0-9a-f]{32}-320\.webp$/);
    expect(en(".shop-intro .shop-logo").attr("alt")).toBe("Tea & Clay logo");
    expect(en(".socials a").map((_, a) => en(a).attr("href")).get()).toEqual(["https://www.instagram.com/teaandclay/", "https://www.tiktok.com/@teaandclay", "https://wa.me/15551234567"]);
    expect(en(".socials a").first().text()).toBe("Instagram");
    expect(en(".socials a").first().attr("rel")).toContain("me");

    const fa = load((await request(t.app).get("/shop/?lang=fa").expect(200)).text);
    expect(fa(".shop-intro__bio").text()).toBe("سفال از کارگاه ما در اصفهان.");
    expect(fa(".socials a").first().text()).toBe("اینستاگرام");

    // The gallery shows the logo, not a letter.
    const gallery = load((await request(t.app).get("/shop/gallery").expect(200)).text);
    expect(gallery(".bio__avatar img.shop-logo").attr("src")).toBe(en(".shop-intro .shop-logo").attr("src"));
    expect(gallery(".bio__avatar").text().trim()).toBe("");

    // Feeds and emails use the name shown.
    expect((await request(t.app).get("/shop/feeds/google.xml").expect(200)).text).toContain("<title>Tea &amp; Clay</title>");
  });

  it("refuses what it cannot use, naming the field, and saves nothing", async () => {
    const before = (await t.db.setting.findUniqueOrThrow({ where: { key: "shop.profile" } })).value;
    const { action } = await formAction();
    const res = await submit(action, { ...valid, social_instagram: "https://evil.example/teaandclay", countries: [], returnsFee: "fixed", returnsFeeAmount: "four" }).expect(400);
    const $ = load(res.text);
    expect($("#social_instagram-error").text()).toContain("Instagram address");
    expect($("#social_instagram").attr("aria-invalid")).toBe("true");
    expect($("#countries-error").text()).toContain("at least one country");
    expect($("#form-problems li").first().text()).toMatch(/^Instagram: /);
    // Typed values come back as typed.
    expect($("#social_instagram").attr("value")).toBe("https://evil.example/teaandclay");
    const fee = await submit(action, { ...valid, returnsFee: "fixed", returnsFeeAmount: "four" }).expect(400);
    expect(load(fee.text)("#returnsFeeAmount-error").text()).toContain("not an amount");
    expect((await t.db.setting.findUniqueOrThrow({ where: { key: "shop.profile" } })).value).toBe(before);
  });

  it("removes the logo and the name override: the default mark and the configured name come back", async () => {
    const { action } = await formAction();
    await submit(action, { ...valid, name: "", removeLogo: "on" }).expect(303);
    const $ = load((await request(t.app).get("/shop/").expect(200)).text);
    expect($("#shop-name").text()).toBe("Configured Name");
    expect($(".shop-intro .shop-logo").attr("src")).toMatch(/^\/shop\/assets\/img\/favicon\.[0-9a-f]{8}\.svg$/);
  });
});

describe("home page", () => {
  it("shows the shop, then its latest shoppable posts (labelled in words), then products", async () => {
    const mug = await createProduct(t.deps, { title: "Blue Mug", image: true });
    const bowl = await createProduct(t.deps, { title: "Bowl", image: true });
    const two = await createPost(t.deps, { caption: "Two things", publishedAt: new Date(t.deps.now().getTime() - 7200_000) });
    await createTag(t.deps, { postId: two.id, productId: mug.id, x: 0.3, y: 0.3 });
    await createTag(t.deps, { postId: two.id, productId: bowl.id, x: 0.7, y: 0.7 });
    const one = await createPost(t.deps, { caption: "One thing" });
    await createTag(t.deps, { postId: one.id, productId: mug.id, x: 0.5, y: 0.5 });
    const $ = load((await request(t.app).get("/shop/?lang=en").expect(200)).text);
    const order = $("main > section").map((_, s) => $(s).attr("class")).get();
    expect(order).toEqual(["shop-intro", "home-posts", "home-products"]);
    expect($(".home-posts .bio-tile__badge").map((_, b) => $(b).text()).get()).toEqual(["1 product", "2 products"]);
    expect($(".home-posts a[href='/shop/gallery']").text()).toBe("See all posts");
    expect($(".home-products .card").length).toBeGreaterThanOrEqual(2);
    // On a phone the first post tile is the largest thing in view: it loads first, everything below lazily.
    const postImages = $(".home-posts img").toArray().map((el) => $(el));
    expect(postImages[0]!.attr("fetchpriority")).toBe("high");
    expect(postImages[0]!.attr("loading")).toBeUndefined();
    for (const img of [...postImages.slice(1), ...$(".home-products img").toArray().map((el) => $(el))]) {
      expect(img.attr("loading")).toBe("lazy");
      expect(img.attr("fetchpriority")).toBeUndefined();
    }
  });
});
