// Builds what production runs: the Prisma client (src/generated, from
// prisma/schema.prisma) and the compiled package (dist/, from src/).
//
//   node scripts/build.mjs             always compile (npm run build)
//   node scripts/build.mjs --if-stale  only what is older than its sources
//                                      (npm start, npm install, npm pack)
//   --soft                             missing dev tools are a warning, not a
//                                      failure (npm install --omit=dev)
//
// Plain JavaScript with no dependencies, so it runs before anything is built.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(path.join(root, "package.json"));
const args = new Set(process.argv.slice(2));
const ifStale = args.has("--if-stale");
const soft = args.has("--soft");
const stampFile = path.join(root, "dist", ".build-stamp");
// Two Prisma clients from one schema: SQLite's from prisma/schema.prisma and
// PostgreSQL's from prisma/postgres/schema.prisma (generated from the first by
// prisma/postgres-schema.ts); the URL picks one at run time (src/db/client.ts).
const clients = [
  { schema: path.join(root, "prisma", "schema.prisma"), client: path.join(root, "src", "generated", "prisma", "client.ts"), argv: ["generate"] },
  {
    schema: path.join(root, "prisma", "postgres", "schema.prisma"),
    client: path.join(root, "src", "generated", "prisma-pg", "client.ts"),
    argv: ["generate", "--config", "prisma/postgres/prisma.config.ts"],
  },
];

function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

function resolveTool(specifier) {
  try {
    return require.resolve(specifier);
  } catch {
    return null;
  }
}

function run(label, script, argv) {
  console.log(`bazaarche build: ${label}`);
  const result = spawnSync(process.execPath, [script, ...argv], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`bazaarche build: ${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

function missingTool(what, needed) {
  const message = `bazaarche build: ${what} is not installed (a dev dependency), so ${needed} cannot be built. Run \`npm install\` with dev dependencies, then \`npm run build\`.`;
  if (soft) {
    console.warn(`${message} Skipped.`);
    process.exit(0);
  }
  console.error(message);
  process.exit(1);
}

// 1. The Prisma clients, each when its schema is newer than it (or it is missing).
for (const { schema, client, argv } of clients) {
  if (existsSync(client) && newestMtime(schema) <= newestMtime(client) && ifStale) continue;
  const prismaCli = resolveTool("prisma/build/index.js");
  if (prismaCli) run(`prisma ${argv.join(" ")}`, prismaCli, argv);
  else if (!existsSync(client)) missingTool("The Prisma CLI", "the database client");
}

// 2. The compiled package, when any source is newer than the last build.
const sources = Math.max(newestMtime(path.join(root, "src")), newestMtime(path.join(root, "tsconfig.json")), newestMtime(path.join(root, "tsconfig.build.json")));
if (ifStale && existsSync(stampFile) && newestMtime(stampFile) >= sources) process.exit(0);
const tsc = resolveTool("typescript/bin/tsc");
if (!tsc) {
  if (existsSync(path.join(root, "dist", "server.js"))) {
    console.warn("bazaarche build: TypeScript is not installed; running the existing dist/, which may be older than src/.");
    process.exit(0);
  }
  missingTool("TypeScript", "dist/");
}
run("tsc -p tsconfig.build.json", tsc, ["-p", "tsconfig.build.json"]);
mkdirSync(path.dirname(stampFile), { recursive: true });
writeFileSync(stampFile, `${new Date().toISOString()}\n`);
