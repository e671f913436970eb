import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * The node flags of `npm start` ("node <flags> dist/server.js" in
 * package.json), for tests and benches that start the server as production
 * does; throws if the start script takes another shape.
 */
export function productionNodeFlags(root: string): string[] {
  const start = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const words = start.trim().split(/\s+/);
  if (words[0] !== "node" || words.at(-1) !== "dist/server.js") throw new Error(`package.json "start" is not "node [flags] dist/server.js": ${start}`);
  return words.slice(1, -1);
}
