import type { Server } from "node:http";
import type { Express } from "express";

/**
 * Starts listening and returns a shutdown function that stops accepting new
 * connections, lets in-flight requests finish (up to `graceMs`), then runs
 * `onClosed` (closing the database). Idle keep-alive sockets are closed at
 * once so they do not hold the process open.
 */
export function listen(app: Express, port: number, hooks: { onDrain?: () => void; onClosed?: () => Promise<void>; graceMs?: number } = {}) {
  const server: Server = app.listen(port);
  let closing: Promise<void> | undefined;

  const shutdown = () => {
    closing ??= new Promise<void>((resolve) => {
      hooks.onDrain?.();
      const force = setTimeout(() => server.closeAllConnections(), hooks.graceMs ?? 10_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        void (hooks.onClosed?.() ?? Promise.resolve()).finally(resolve);
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  const ready = new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  return { server, ready, shutdown };
}
