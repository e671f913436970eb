import type pg from "pg";
import type { BroadcastMessage, Broadcaster } from "./broadcaster.js";
import { InProcessBroadcaster } from "./broadcaster.js";

/** The one PostgreSQL channel every instance listens on; the shop's channel travels in the payload. */
const PG_CHANNEL = "bazaarche_broadcast";
/** NOTIFY refuses payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7900;

export interface PostgresBroadcasterOptions {
  /** Called when the listening connection drops, and when it is back. */
  onConnectionChange?: (state: "lost" | "restored", err?: Error) => void;
  /** First reconnect delay; doubles up to 5 s. */
  retryMs?: number;
}

/**
 * The Broadcaster across app instances, over PostgreSQL LISTEN/NOTIFY.
 *
 * One dedicated connection per process (not from the pool: a pooled
 * connection is handed to others between queries, and with pgbouncer in
 * transaction mode LISTEN would not survive the transaction) both LISTENs and
 * NOTIFYs. PostgreSQL delivers a notification to every listening session,
 * the sender's included, so subscribers on this instance hear their own
 * instance's messages the same way as others'. When the connection is down,
 * a publish is delivered on this instance only and the others catch up from
 * the database (the live event log) on their next wake-up; after a
 * reconnect every subscriber gets a `{ type: "reconnected" }` message, so it
 * re-reads what it may have missed.
 */
export class PostgresBroadcaster implements Broadcaster {
  private readonly local = new InProcessBroadcaster();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(
    private readonly url: string,
    private readonly options: PostgresBroadcasterOptions = {},
  ) {}

  /** Connects and starts listening; publish and subscribe call it themselves, a server calls it at start to fail early. */
  start(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async publish(channel: string, message: BroadcastMessage): Promise<void> {
    const payload = JSON.stringify({ c: channel, m: message });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new Error(`broadcast message on ${channel} is too large for NOTIFY (${Buffer.byteLength(payload)} bytes)`);
    try {
      await this.start();
      await this.client!.query("SELECT pg_notify($1, $2)", [PG_CHANNEL, payload]);
    } catch {
      // Down: this instance still hears it; the others read the database when they reconnect.
      await this.local.publish(channel, message);
    }
  }

  subscribe(channel: string, handler: (message: BroadcastMessage) => void): () => void {
    if (!this.closed) void this.start().catch(() => undefined);
    return this.local.subscribe(channel, handler);
  }

  /** Channels with at least one subscriber on this instance. */
  channelCount(): number {
    return this.local.channelCount();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) throw new Error("broadcaster closed");
    // Loaded on the first connection, so a host app that imports the package (src/index.ts re-exports this class) loads pg only if it uses it.
    const { default: driver } = await import("pg");
    const client = new driver.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, keepAlive: true, application_name: "bazaarche-broadcast" });
    client.on("notification", (n) => {
      if (n.channel !== PG_CHANNEL || !n.payload) return;
      let parsed: { c?: unknown; m?: unknown };
      try {
        parsed = JSON.parse(n.payload) as { c?: unknown; m?: unknown };
      } catch {
        return;
      }
      if (typeof parsed.c === "string" && parsed.m && typeof parsed.m === "object") void this.local.publish(parsed.c, parsed.m as BroadcastMessage);
    });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const wasLost = this.attempt > 0;
    this.attempt = 0;
    this.client = client;
    if (wasLost) {
      this.options.onConnectionChange?.("restored");
      this.wakeEveryone();
    }
  }

  /** The listening connection is gone: reconnect with backoff, and meanwhile deliver locally. */
  private lost(client: pg.Client, err?: Error) {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners("end");
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.onConnectionChange?.("lost", err);
    this.scheduleReconnect();
  }

  private scheduleReconnect() {
    if (this.closed || this.retryTimer) return;
    this.attempt += 1;
    const delay = Math.min(5000, (this.options.retryMs ?? 200) * 2 ** (this.attempt - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start().catch(() => this.scheduleReconnect());
    }, delay);
    this.retryTimer.unref();
  }

  /** After a gap, anything may have been missed: every channel re-reads the database. */
  private wakeEveryone() {
    for (const channel of this.local.channelNames()) void this.local.publish(channel, { type: "reconnected" });
  }
}
