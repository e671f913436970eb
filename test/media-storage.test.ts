import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import sharp from "sharp";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { LocalFileStorage, S3FileStorage } from "../src/media/file-storage.js";
import { buildTestApp, MOUNT, type TestApp } from "./helpers/app.js";
import { createToken, testImage } from "./helpers/factories.js";

/**
 * Uploads behind the FileStorage interface: the same upload and the same
 * /media URLs whether images live in the local directory or in an
 * S3-compatible bucket (here s3rver, a local S3 API in this process, spoken
 * to by the real AWS SDK over HTTP).
 */
const BUCKET = "shop-media";
let s3dir: string;
let s3server: S3rver;
let endpoint: string;

beforeAll(async () => {
  s3dir = mkdtempSync(path.join(os.tmpdir(), "bazaarche-s3-"));
  s3server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: s3dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const address = (await s3server.run()) as AddressInfo;
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await s3server.close();
  rmSync(s3dir, { recursive: true, force: true });
});

/** Uploads a photo through the JSON API and returns the image's /media URLs from the answer. */
async function uploadPhoto(t: TestApp) {
  const { token } = await createToken(t.deps);
  const api = (method: "post" | "put", p: string) => request(t.app)[method](`${MOUNT}/api/v1${p}`).set("Authorization", `Bearer ${token}`);
  const post = await api("post", "/posts").send({ platform: "instagram", status: "draft" }).expect(201);
  const res = await api("put", `/posts/${post.body.data.id}/image`).set("Content-Type", "image/jpeg").send(await testImage({ width: 900, height: 700, color: "#2a9d8f" })).expect(200);
  const key = res.body.data.image.storageKey as string;
  expect(key).toMatch(/^[0-9a-f]{32}$/);
  return key;
}

async function expectServed(t: TestApp, key: string) {
  const webp = await request(t.app).get(`${MOUNT}/media/${key}-640.webp`).expect(200);
  expect(webp.headers["content-type"]).toBe("image/webp");
  expect(webp.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect((await sharp(webp.body as Buffer).metadata()).width).toBe(640);
  const square = await request(t.app).get(`${MOUNT}/media/${key}-sq.jpg`).expect(200);
  expect(square.headers["content-type"]).toBe("image/jpeg");
  expect(await sharp(square.body as Buffer).metadata()).toMatchObject({ width: 800, height: 800, format: "jpeg" });
  // Revalidation by name, and unknown or malformed names are the 404 page.
  await request(t.app).get(`${MOUNT}/media/${key}-640.webp`).set("If-None-Match", webp.headers.etag!).expect(304);
  await request(t.app).get(`${MOUNT}/media/${"0".repeat(32)}-640.webp`).expect(404);
  await request(t.app).get(`${MOUNT}/media/..%2Fsecrets.webp`).expect(404);
}

describe("local directory (the default)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  it("writes today's files into uploadsDir and serves them at /media", async () => {
    expect(t.deps.files).toBeInstanceOf(LocalFileStorage);
    const key = await uploadPhoto(t);
    for (const name of [`${key}-320.webp`, `${key}-640.webp`, `${key}-1024.webp`, `${key}-sq.jpg`]) expect(existsSync(path.join(t.deps.uploadsDir, name)), name).toBe(true);
    // No half-written files are left beside them.
    expect(readdirSync(t.deps.uploadsDir).filter((f) => f.endsWith(".part"))).toEqual([]);
    await expectServed(t, key);
  });
});

describe("S3-compatible bucket", () => {
  let t: TestApp;
  let files: S3FileStorage;
  beforeAll(async () => {
    files = new S3FileStorage({ bucket: BUCKET, prefix: "shop1/", endpoint, region: "us-east-1", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    t = await buildTestApp({ files });
  });
  afterAll(async () => {
    await files.close();
    await t.close();
  });

  it("puts every size in the bucket (and nothing on local disk) and serves them at /media", async () => {
    const key = await uploadPhoto(t);
    const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "shop1/" }));
      const names = (listed.Contents ?? []).map((o) => o.Key).sort();
      expect(names).toEqual([`shop1/${key}-1024.webp`, `shop1/${key}-320.webp`, `shop1/${key}-640.webp`, `shop1/${key}-sq.jpg`]);
    } finally {
      client.destroy();
    }
    expect(existsSync(t.deps.uploadsDir)).toBe(false);
    await expectServed(t, key);
  });

  it("lets a second app instance serve what the first one uploaded", async () => {
    const key = await uploadPhoto(t);
    const other = await buildTestApp({ files: new S3FileStorage({ bucket: BUCKET, prefix: "shop1/", endpoint, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } }) });
    try {
      await expectServed(other, key);
    } finally {
      await other.close();
    }
  });
});

describe("S3 configuration", () => {
  it("is validated at start-up, naming the variable", () => {
    expect(loadConfig({ S3_BUCKET: "shop-media", S3_ENDPOINT: "http://127.0.0.1:9000", S3_ACCESS_KEY_ID: "key", S3_SECRET_ACCESS_KEY: "secret", S3_FORCE_PATH_STYLE: "true" })).toMatchObject({
      S3_BUCKET: "shop-media",
      S3_ENDPOINT: "http://127.0.0.1:9000",
      S3_FORCE_PATH_STYLE: true,
    });
    const cases: [Record<string, string>, string][] = [
      [{ S3_BUCKET: "Shop_Media" }, "Invalid S3_BUCKET (got \"Shop_Media\"): expected a bucket name"],
      [{ S3_BUCKET: "shop-media", S3_ENDPOINT: "ftp://x" }, "Invalid S3_ENDPOINT"],
      [{ S3_BUCKET: "shop-media", S3_ACCESS_KEY_ID: "key" }, "Invalid S3_SECRET_ACCESS_KEY: expected required when S3_ACCESS_KEY_ID is set"],
      [{ S3_ENDPOINT: "http://127.0.0.1:9000" }, "Invalid S3_BUCKET: expected a bucket name: S3_ENDPOINT is set"],
      [{ S3_BUCKET: "shop-media", S3_FORCE_PATH_STYLE: "yes" }, "Invalid S3_FORCE_PATH_STYLE (got \"yes\"): expected true or false"],
    ];
    for (const [env, line] of cases) expect(() => loadConfig(env)).toThrow(line);
  });
});
