import type { AddressInfo } from "node:net";
import express from "express";
import { describe, expect, it } from "vitest";
import { listen } from "../src/http/lifecycle.js";

describe("graceful shutdown", () => {
  it("stops accepting, finishes in-flight requests, then closes the database", async () => {
    const events: string[] = [];
    const app = express();
    app.get("/slow", async (_req, res) => {
      await new Promise((r) => setTimeout(r, 400));
      events.push("slow request finished");
      res.send("done");
    });
    const { server, ready, shutdown } = listen(app, 0, {
      onDrain: () => events.push("draining"),
      onClosed: async () => {
        events.push("database closed");
      },
    });
    await ready;
    const port = (server.address() as AddressInfo).port;

    const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));
    const closed = shutdown();

    await expect(fetch(`http://127.0.0.1:${port}/slow`)).rejects.toThrow();
    expect(await inFlight).toBe("done");
    await closed;
    expect(events).toEqual(["draining", "slow request finished", "database closed"]);
  });

  it("does not wait forever for a stuck request", async () => {
    const app = express();
    app.get("/stuck", () => {
      /* never answers */
    });
    const { server, ready, shutdown } = listen(app, 0, { graceMs: 200 });
    await ready;
    const port = (server.address() as AddressInfo).port;
    const stuck = fetch(`http://127.0.0.1:${port}/stuck`).catch(() => "cut");
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await shutdown();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await stuck).toBe("cut");
  });
});
