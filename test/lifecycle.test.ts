import type { AddressInfo } from "node:net";
import express from "express";
import { describe, expect, it } from "vitest";
import { listen } from "../src/http/lifecycle.js";

/** A promise with its resolve function outside, to wait on events instead of the clock. */
function signal<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("graceful shutdown", () => {
  it("stops accepting, finishes in-flight requests, then closes the database", async () => {
    const events: string[] = [];
    const arrived = signal();
    const release = signal();
    const app = express();
    app.get("/slow", async (_req, res) => {
      arrived.resolve();
      // Held until the test lets it go, after shutdown has begun.
      await release.promise;
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
    await arrived.promise; // the request is in the handler now
    const closed = shutdown();

    await expect(fetch(`http://127.0.0.1:${port}/slow`)).rejects.toThrow();
    // Still draining: the database must not be closed under the request in flight.
    expect(events).toEqual(["draining"]);
    release.resolve();
    expect(await inFlight).toBe("done");
    await closed;
    expect(events).toEqual(["draining", "slow request finished", "database closed"]);
  });

  it("does not wait forever for a stuck request: after the grace period it cuts it and closes", async () => {
    const arrived = signal();
    const app = express();
    app.get("/stuck", () => {
      arrived.resolve(); // …and never answers
    });
    let closedDatabase = false;
    const { server, ready, shutdown } = listen(app, 0, {
      graceMs: 200,
      onClosed: async () => {
        closedDatabase = true;
      },
    });
    await ready;
    const port = (server.address() as AddressInfo).port;
    const stuck = fetch(`http://127.0.0.1:${port}/stuck`).then(
      () => "answered",
      () => "cut",
    );
    await arrived.promise;
    // Without the grace timer this never resolves and the test fails on its timeout.
    await shutdown();
    expect(await stuck).toBe("cut");
    expect(closedDatabase).toBe(true);
  }, 20_000);
});
