import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The package as a host app gets it: `npm pack`, then `npm install` of the
 * tarball into a plain JavaScript Express app in a temporary folder, mounted
 * at /shop and run with plain `node` (no TypeScript loader anywhere).
 */
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = promisify(execFile);

const HOST_APP = `
import express from "express";
import { createStorefront, migrateDatabase, openDatabase } from "bazaarche";

const dir = process.argv[2];
migrateDatabase(dir + "/shop.db");
const prisma = await openDatabase("file:" + dir + "/shop.db");

const app = express();
app.get("/", (_req, res) => res.send("host home"));
app.use("/shop", createStorefront({ prisma, shopName: "Plain JS Host", uploadsDir: dir + "/uploads"}));
const server = app.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
`;

let tmp: string;
let host: string;
let child: ChildProcess | undefined;
let origin: string;
let installLog = "";

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "bazaarche-pack-"));
  host = path.join(tmp, "host");
  mkdirSync(host);

  // `npm pack` runs `prepare`, which builds dist/ when src/ is newer than it.
  const packed = await run("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const tarball = path.join(tmp, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as { filename: string }[])[0]!.filename);

  // better-sqlite3 compiles from source on install here (no prebuilt download
  // on this network), which takes minutes; its install script is denied and
  // the addon this checkout's own `npm install` compiled, for the same Node
  // and the same version, is copied in. Every other step is a host's.
  writeFileSync(path.join(host, "package.json"), JSON.stringify({ name: "plain-js-host", private: true, type: "module", allowScripts: { "better-sqlite3": false } }, null, 2));
  writeFileSync(path.join(host, "server.js"), HOST_APP);
  const install = await run("npm", ["install", tarball, "express@5", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: host, maxBuffer: 64 * 1024 * 1024 });
  installLog = install.stdout + install.stderr;
  const ours = JSON.parse(readFileSync(path.join(ROOT, "node_modules/better-sqlite3/package.json"), "utf8")) as { version: string };
  const theirs = JSON.parse(readFileSync(path.join(host, "node_modules/better-sqlite3/package.json"), "utf8")) as { version: string };
  expect(theirs.version).toBe(ours.version);
  mkdirSync(path.join(host, "node_modules/better-sqlite3/build/Release"), { recursive: true });
  copyFileSync(path.join(ROOT, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"), path.join(host, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"));

  child = spawn(process.execPath, ["server.js", tmp], { cwd: host, env: { ...process.env, NODE_OPTIONS: "" } });
  let output = "";
  origin = await new Promise<string>((resolve, reject) => {
    child!.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening (\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    child!.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child!.once("exit", (code) => reject(new Error(`host app exited with ${code}:\n${output}`)));
  });
}, 600_000);

afterAll(() => {
  child?.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the packed package in a plain JavaScript host", () => {
  it("installs compiled JavaScript with type declarations, without the TypeScript loader or the Prisma CLI", () => {
    const pkg = path.join(host, "node_modules/bazaarche");
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/generated/prisma/client.js", "views/layouts/main.hbs", "prisma/migrations"]) {
      expect(existsSync(path.join(pkg, file)), file).toBe(true);
    }
    expect(existsSync(path.join(pkg, "src"))).toBe(false);
    expect(existsSync(path.join(pkg, "test"))).toBe(false);
    for (const tool of ["tsx", "prisma", "typescript", "vitest"]) expect(existsSync(path.join(host, "node_modules", tool)), tool).toBe(false);
    // The package itself runs nothing at install time (no postinstall `prisma generate`).
    expect(installLog).not.toMatch(/bazaarche@[^\s]* \((pre|post)?install/);
  });

  it("serves the storefront and its assets under /shop from plain node", async () => {
    const hostHome = await fetch(`${origin}/`);
    expect(await hostHome.text()).toBe("host home");

    const page = await fetch(`${origin}/shop/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Plain JS Host");
    const css = /href="(\/shop\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(css).toBeDefined();
    const asset = await fetch(`${origin}${css}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/text\/css/);
    expect((await asset.text()).length).toBeGreaterThan(1000);
  });
});
