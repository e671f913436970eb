import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * A heavy dependency loaded the first time it is used rather than at start-up
 * (sharp, the Stripe SDK, CSV, QR codes, argon2: 4–35 MB of memory each, most
 * of which a shop's web process never touches between two admin sessions).
 * Synchronous through `require`, so call sites stay as they were; Node 20.19+
 * also loads ES-module-only packages this way.
 */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
