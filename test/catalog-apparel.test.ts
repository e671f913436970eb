/**
 * Google's apparel attributes on products: gender, age group, and colour and
 * size for variants that have no Colour / Size option. Set in the admin form,
 * the JSON API and the CSV, and carried by the feeds.
 */
import { parse as parseCsv } from "csv-parse/sync";
import { XMLParser } from "fast-xml-parser";
import request from "supertest";
import type TestAgent from "supertest/lib/agent.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers/app.js";
import { storeImage } from "../src/media/media.service.js";
import { createAdmin, createToken, testImage } from "./helpers/factories.js";
import { importCsv } from "./helpers/csv.js";
import { load, signIn } from "./helpers/html.js";

let t: TestApp;
let token: string;
let agent: TestAgent;
const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === "item" });

beforeAll(async () => {
  t = await buildTestApp({ publicUrl: "https://apparel.example/shop" });
  token = (await createToken(t.deps)).token;
  const { email, password } = await createAdmin(t.deps);
  agent = request.agent(t.app);
  await signIn(agent, email, password);
});
afterAll(() => t.close());

const api = (method: "post" | "put" | "get", path: string) => request(t.app)[method](`/shop/api/v1${path}`).set("Authorization", `Bearer ${token}`);

async function googleItems(groupId: string) {
  const res = await request(t.app).get("/shop/feeds/google.xml").expect(200);
  return ((xml.parse(res.text).rss.channel.item ?? []) as Record<string, string>[]).filter((i) => i["g:item_group_id"] === groupId);
}

describe("apparel attributes", () => {
  it("are set through the API, refused with the field named when not Google's values, and read back", async () => {
    const bad = await api("post", "/products").send({ title: "Scarf", gender: "women", variants: [{ sku: "SCF-X", priceMinor: 3000, stock: 2 }] }).expect(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(["gender"]);
    const created = await api("post", "/products")
      .send({
        title: "Block-print Scarf", description: "Printed by hand.", status: "active", brand: "Studio", googleCategory: "Apparel & Accessories > Clothing Accessories > Scarves & Shawls",
        gender: "unisex", ageGroup: "adult", color: "Indigo", size: "One size",
        optionNames: ["Colour"], variants: [{ sku: "SCF-IND", option1: "Indigo", priceMinor: 3000, stock: 2 }, { sku: "SCF-RED", option1: "Madder red", priceMinor: 3000, stock: 2 }],
      })
      .expect(201);
    const read = await api("get", `/products/${created.body.data.id}`).expect(200);
    expect(read.body.data).toMatchObject({ gender: "unisex", ageGroup: "adult", color: "Indigo", size: "One size" });

    // The Colour option wins per variant; the product's own size fills in.
    const media = await storeImage(t.deps, { bytes: await testImage({ width: 900, height: 900 }) });
    await t.db.productImage.create({ data: { productId: created.body.data.id, mediaId: media.id } });
    const items = await googleItems(created.body.data.id);
    expect(items.map((i) => [i["g:color"], i["g:size"], i["g:gender"], i["g:age_group"]]).sort()).toEqual([
      ["Indigo", "One size", "unisex", "adult"],
      ["Madder red", "One size", "unisex", "adult"],
    ]);
  });

  it("are edited in the admin form, and the Google feed carries them (variant Colour first, product fields otherwise)", async () => {
    const page = await agent.get("/shop/admin/products/new?lang=en").expect(200);
    const $ = load(page.text);
    expect($("#gender option").map((_, o) => $(o).attr("value")).get()).toEqual(["", "male", "female", "unisex"]);
    expect($("#ageGroup option").map((_, o) => $(o).text()).get()).toContain("Adult");
    const action = $("form.product-form").attr("action")!;
    const res = await agent
      .post(action)
      .field("title", "Silver Earrings")
      .field("description", "Drop earrings.")
      .field("brand", "Studio")
      .field("status", "active")
      .field("condition", "new")
      .field("googleCategory", "Apparel & Accessories > Jewelry > Earrings")
      .field("gender", "female")
      .field("ageGroup", "adult")
      .field("color", "Silver")
      .field("size", "")
      .field("variants.0.sku", "EAR-SLV")
      .field("variants.0.price", "36")
      .field("variants.0.stock", "3")
      .attach("newImages", await testImage({ width: 900, height: 900 }), { filename: "e.jpg", contentType: "image/jpeg" })
      .expect(303);
    const id = res.headers.location!.split("/").pop()!.split("?")[0]!;
    const edit = load((await agent.get(`/shop/admin/products/${id}?lang=fa`).expect(200)).text);
    expect(edit("#gender option:checked").attr("value")).toBe("female");
    expect(edit("#gender option:checked").text()).toBe("زنانه");
    expect(edit("#color").attr("value")).toBe("Silver");

    const [item] = await googleItems(id);
    expect(item).toMatchObject({ "g:gender": "female", "g:age_group": "adult", "g:color": "Silver" });
    expect(item!["g:size"]).toBeUndefined();
    const meta = (parseCsv((await request(t.app).get("/shop/feeds/meta.csv").expect(200)).text, { columns: true }) as Record<string, string>[]).find((r) => r.item_group_id === id)!;
    expect(meta).toMatchObject({ gender: "female", age_group: "adult", color: "Silver" });
  });

  it("travel through the CSV: imported, exported, and kept when a file leaves their columns out", async () => {
    const header = "handle,title,description,brand,status,google_category,gender,age_group,color,size,option1_name,sku,option1,price,stock";
    const csv = [header, "wool-hat,Wool Hat,Warm.,Studio,active,Apparel & Accessories > Clothing Accessories > Hats,Unisex,ADULT,,One size,Colour,HAT-MUS,Mustard,30.00,4"].join("\n");
    const applied = await importCsv(t.app, token, csv, false);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const hat = await t.db.product.findUniqueOrThrow({ where: { slug: "wool-hat" } });
    expect(hat).toMatchObject({ gender: "unisex", ageGroup: "adult", color: "", size: "One size" });

    const exported = await api("get", "/products/export.csv").expect(200);
    const row = (parseCsv(exported.text.replace(/^\uFEFF/, ""), { columns: true }) as Record<string, string>[]).find((r) => r.handle === "wool-hat")!;
    expect(row).toMatchObject({ gender: "unisex", age_group: "adult", color: "", size: "One size" });

    // Prices only: the attributes stay.
    await importCsv(t.app, token, "handle,title,sku,price,stock\nwool-hat,Wool Hat,HAT-MUS,32.00,4", false).expect(200);
    expect(await t.db.product.findUniqueOrThrow({ where: { slug: "wool-hat" } })).toMatchObject({ gender: "unisex", ageGroup: "adult", size: "One size" });

    const wrong = await importCsv(t.app, token, `${header}\nwool-hat,Wool Hat,Warm.,Studio,active,,men,adult,,,Colour,HAT-MUS,Mustard,30.00,4`, true).expect(422);
    expect(wrong.body.error.details[0]).toMatchObject({ line: 2, column: "gender" });
  });
});
