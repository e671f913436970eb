import { MemoryStore, type ClientRateLimitInfo, type IncrementResponse, type Options, type Store } from "express-rate-limit";
import type { Db } from "../db/client.js";
import { lazyModule } from "../lazy.js";

/**
 * Where rate-limit counters live. Every limiter in the app asks its backend
 * for a store of its own (express-rate-limit refuses to share one):
 *  - "memory": counters in this process (the default for one process; with
 *    several instances each would allow the full limit);
 *  - "database": one row per key in "RateLimitHit", counted with conditional
 *    updates, so all instances on one database share the counts (SQLite and
 *    PostgreSQL alike);
 *  - Redis (`REDIS_URL`): rate-limit-redis's atomic script on a shared Redis.
 */
export type RateLimitStoreOption = "memory" | "database" | { redisUrl: string };

export interface RateLimitBackend {
  readonly kind: "memory" | "database" | "redis";
  /** A fresh store for the limiter called `name` (its keys are prefixed with it). */
  store(name: string): Store;
  close(): Promise<void>;
}

export function createRateLimitBackend(option: RateLimitStoreOption, deps: { db: Db; now: () => Date }): RateLimitBackend {
  if (option === "memory") return { kind: "memory", store: () => new MemoryStore(), close: async () => undefined };
  if (option === "database") return { kind: "database", store: (name) => new DatabaseRateLimitStore(deps, name), close: async () => undefined };
  return redisBackend(option.redisUrl);
}

/**
 * Counts in the database, with no read-then-write race on either engine:
 *  1. `UPDATE … SET hits = hits + 1 WHERE key = ? AND resetAt > now` (the
 *     window is running: count one more);
 *  2. else `UPDATE … SET hits = 1, resetAt = now + window WHERE key = ? AND
 *     resetAt <= now` (the window passed: start a new one; of two requests
 *     racing here, the second no longer matches and goes round again);
 *  3. else `INSERT` (first hit for this key; a concurrent insert loses on the
 *     primary key and goes round again).
 * Each step is one conditional statement that returns the row it wrote
 * (UPDATE … RETURNING on both engines), so the count a request sees is the
 * one its own hit made. Reading the row afterwards would see later hits too
 * (on PostgreSQL, racing requests then all read the final count and all but
 * the first are refused).
 */
export class DatabaseRateLimitStore implements Store {
  readonly localKeys = false;
  windowMs = 60_000;

  constructor(
    private readonly deps: { db: Db; now: () => Date },
    readonly prefix: string,
  ) {}

  init(options: Options) {
    this.windowMs = options.windowMs;
  }

  private key(key: string) {
    return `${this.prefix}:${key}`;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const row = await this.deps.db.rateLimitHit.findUnique({ where: { key: this.key(key) } });
    if (!row || row.resetAt <= this.deps.now()) return undefined;
    return { totalHits: row.hits, resetTime: row.resetAt };
  }

  async increment(key: string): Promise<IncrementResponse> {
    const db = this.deps.db;
    const id = this.key(key);
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.deps.now();
      const [counted] = await db.rateLimitHit.updateManyAndReturn({ where: { key: id, resetAt: { gt: now } }, data: { hits: { increment: 1 } }, select: { hits: true, resetAt: true } });
      if (counted) return { totalHits: counted.hits, resetTime: counted.resetAt };
      const resetTime = new Date(now.getTime() + this.windowMs);
      const restarted = await db.rateLimitHit.updateMany({ where: { key: id, resetAt: { lte: now } }, data: { hits: 1, resetAt: resetTime } });
      if (restarted.count === 1) return { totalHits: 1, resetTime };
      try {
        await db.rateLimitHit.create({ data: { key: id, hits: 1, resetAt: resetTime } });
        return { totalHits: 1, resetTime };
      } catch (err) {
        // Another request created the row first: count against it.
        if ((err as { code?: string }).code !== "P2002") throw err;
      }
    }
    throw new Error(`rate limit: could not count ${id} after 5 attempts`);
  }

  async decrement(key: string): Promise<void> {
    await this.deps.db.rateLimitHit.updateMany({ where: { key: this.key(key), hits: { gt: 0 }, resetAt: { gt: this.deps.now() } }, data: { hits: { decrement: 1 } } });
  }

  async resetKey(key: string): Promise<void> {
    await this.deps.db.rateLimitHit.deleteMany({ where: { key: this.key(key) } });
  }
}

type RedisModule = typeof import("redis");
type RateLimitRedisModule = typeof import("rate-limit-redis");
const redisModule = lazyModule<RedisModule>("redis");
const rateLimitRedis = lazyModule<RateLimitRedisModule>("rate-limit-redis");

/** `redis://…`, `rediss://…`, or `unix:///path/redis.sock` (a local socket). */
function redisClientOptions(url: string) {
  if (url.startsWith("unix://")) return { socket: { path: decodeURIComponent(new URL(url).pathname), tls: false as const } };
  return { url };
}

function redisBackend(url: string): RateLimitBackend {
  const client = redisModule().createClient(redisClientOptions(url));
  // Commands wait in the client's queue until it is connected; a lost
  // connection is retried by the client, and its errors are logged by the
  // limiter's own failure (the request then gets a 500 and is not let through).
  client.on("error", () => undefined);
  const connected = client.connect();
  connected.catch(() => undefined);
  return {
    kind: "redis",
    store: (name) =>
      new (rateLimitRedis().RedisStore)({
        prefix: `bazaarche:rl:${name}:`,
        sendCommand: (...args: string[]) => client.sendCommand(args),
      }),
    close: async () => {
      await connected.catch(() => undefined);
      if (client.isOpen) await client.close();
    },
  };
}
