/**
 * The server process of `npm run bench:import`: what `npm start` runs
 * (src/server.ts: the same boot, the same storefront, the jobs in this
 * process unless JOBS=off), but listening on an ephemeral port and without
 * the demo shop, printing `{"port": n}` once it listens. SIGTERM stops it as
 * the real server stops.
 */
import type { AddressInfo } from "node:net";
import { bootShop, configOrExit } from "../../src/boot.js";
import { listen } from "../../src/http/lifecycle.js";
import { startJobs } from "../../src/jobs/registry.js";

const config = configOrExit();
const { shop, deps, close } = await bootShop(config);
const jobs = config.JOBS === "on" ? startJobs(deps) : null;
const { server, ready, shutdown } = listen(shop, 0, {
  onDrain: () => {
    shop.bazaarche.beginShutdown();
    void jobs?.stop();
  },
  onClosed: async () => {
    await jobs?.stop();
    await close();
  },
});
await ready;
console.log(JSON.stringify({ port: (server.address() as AddressInfo).port, pid: process.pid }));
process.once("SIGTERM", () => void shutdown().then(() => process.exit(0)));
