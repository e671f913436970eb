import { randomBytes } from "node:crypto";
import type { Response } from "express";
import type { Deps } from "../deps.js";
import type { BroadcastMessage } from "../realtime/broadcaster.js";
import { liveChannel, oldestLiveEventSeq, readLiveEvents, type LiveEventRow } from "./live.events.js";

/**
 * Server-Sent Events for live shows, one `LiveStreams` per storefront.
 *
 * Per session there is one hub on this instance holding its open streams.
 * A Broadcaster wake-up makes the hub read the new rows of the event log
 * ONCE and write the same bytes to every stream, so a host action costs one
 * query per instance, not one per viewer. Streams that reconnect with
 * Last-Event-ID are replayed from the log, which lives in the database and so
 * works on any instance.
 *
 * Memory is bounded: a stream whose unsent bytes pass `maxBufferedBytes` (a
 * viewer whose connection stopped reading) is closed — its browser
 * reconnects and catches up from the log — and a hub without streams
 * unsubscribes and is dropped, so connections that come and go leave nothing.
 */

interface Client {
  res: Response;
  host: boolean;
  visitor: string;
  /** Last event seq this stream has been given (or skipped: host-only events for viewers). */
  seq: number;
  /** Since when a write has been waiting for the client to read ('drain'); null while it keeps up. */
  stalledSince: number | null;
}

interface Hub {
  sessionId: string;
  clients: Set<Client>;
  /** Streams still catching up from the log; the hub stays while they do. */
  joining: number;
  seq: number;
  unsubscribe: () => void;
  pulling: boolean;
  again: boolean;
  /** When the last read of the log started, and a read scheduled for later (see wake). */
  lastPull: number;
  pullTimer: NodeJS.Timeout | null;
  viewersTimer: NodeJS.Timeout | null;
  peakTimer: NodeJS.Timeout | null;
}

export interface LiveStreamOptions {
  /** Comment line sent to every stream so proxies and phones keep it open (default 15 s). */
  heartbeatMs?: number;
  /** A stream with more unsent bytes than this is closed (default 64 KiB). */
  maxBufferedBytes?: number;
  /** Streams this instance accepts at once (default 20,000); more get 503. */
  maxStreams?: number;
  /** Wake-ups within this window after a read are served by one read (default 100 ms). */
  coalesceMs?: number;
}

const HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store, no-transform",
  Connection: "keep-alive",
  // nginx would otherwise buffer the stream.
  "X-Accel-Buffering": "no",
};

const BATCH = 200;

export class LiveStreams {
  readonly instanceId = randomBytes(8).toString("hex");
  private readonly hubs = new Map<string, Hub>();
  private readonly creating = new Map<string, Promise<Hub>>();
  private readonly remote = new Map<string, { sessions: Record<string, number>; at: number }>();
  private readonly heartbeatMs: number;
  private readonly maxBufferedBytes: number;
  private readonly maxStreams: number;
  private readonly coalesceMs: number;
  private heartbeat: NodeJS.Timeout | null = null;
  private unsubscribePresence: (() => void) | null = null;
  private streams = 0;
  private closed = false;
  /** Streams closed for not reading (for tests and the benchmark). */
  dropped = 0;

  constructor(
    private readonly deps: Deps,
    options: LiveStreamOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024;
    this.maxStreams = options.maxStreams ?? 20_000;
    this.coalesceMs = options.coalesceMs ?? 100;
  }

  /**
   * Serves one stream until the client goes away. `afterSeq` is the last
   * event the client has (Last-Event-ID, or the seq the page was rendered
   * at); null means "from now".
   */
  async open(res: Response, input: { sessionId: string; afterSeq: number | null; host: boolean; visitor: string }) {
    if (this.closed || this.streams >= this.maxStreams) {
      res.status(503).set("Retry-After", "5").type("text/plain").send("Too many live connections; retrying shortly.");
      return;
    }
    this.streams += 1;
    res.writeHead(200, HEADERS);
    res.write("retry: 3000\n\n");
    res.socket?.setNoDelay(true);

    let hub: Hub | null = null;
    const client: Client = { res, host: input.host, visitor: input.visitor, seq: 0, stalledSince: null };
    res.on("drain", () => {
      client.stalledSince = null;
    });
    let gone = false;
    let joined = false;
    res.on("close", () => {
      gone = true;
      this.streams -= 1;
      if (!hub) return;
      if (joined) {
        hub.clients.delete(client);
        this.viewersChanged(hub);
      } else {
        hub.joining -= 1;
      }
      this.disposeIfIdle(hub);
    });

    try {
      hub = await this.hubFor(input.sessionId);
    } catch (err) {
      this.deps.logger.error({ err, sessionId: input.sessionId }, "live: could not open the session's stream hub");
      res.destroy();
      return;
    }
    hub.joining += 1;
    if (gone) {
      hub.joining -= 1;
      this.disposeIfIdle(hub);
      return;
    }
    try {
      client.seq = input.afterSeq === null ? hub.seq : input.afterSeq;
      await this.catchUp(hub, client, () => gone);
    } catch (err) {
      this.deps.logger.warn({ err, sessionId: input.sessionId }, "live: catch-up failed; closing the stream");
      res.destroy();
      return;
    }
    if (gone) return;
    hub.joining -= 1;
    hub.clients.add(client);
    joined = true;
    this.ensureHeartbeat();
    this.viewersChanged(hub);
  }

  /** Distinct visitors watching the session now: this instance's streams plus what other instances reported. */
  viewersNow(sessionId: string): number {
    const hub = this.hubs.get(sessionId);
    const local = hub ? new Set([...hub.clients].filter((c) => !c.host).map((c) => c.visitor)).size : 0;
    const fresh = Date.now() - 3 * this.heartbeatMs;
    let others = 0;
    for (const [instance, entry] of this.remote) {
      if (entry.at < fresh) this.remote.delete(instance);
      else others += entry.sessions[sessionId] ?? 0;
    }
    return local + others;
  }

  /** Open streams on this instance (all sessions). */
  streamCount(): number {
    return this.streams;
  }

  hubCount(): number {
    return this.hubs.size;
  }

  /** Ends every stream (shutdown); the browsers reconnect to another instance. */
  close() {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.unsubscribePresence?.();
    this.unsubscribePresence = null;
    for (const hub of this.hubs.values()) {
      for (const c of hub.clients) c.res.end();
      this.dispose(hub);
    }
  }

  private async hubFor(sessionId: string): Promise<Hub> {
    const existing = this.hubs.get(sessionId);
    if (existing) return existing;
    let pending = this.creating.get(sessionId);
    if (!pending) {
      pending = (async () => {
        const session = await this.deps.db.liveSession.findUnique({ where: { id: sessionId }, select: { eventSeq: true } });
        const hub: Hub = {
          sessionId,
          clients: new Set(),
          joining: 0,
          seq: session?.eventSeq ?? 0,
          unsubscribe: () => undefined,
          pulling: false,
          again: false,
          lastPull: 0,
          pullTimer: null,
          viewersTimer: null,
          peakTimer: null,
        };
        hub.unsubscribe = this.deps.broadcaster.subscribe(liveChannel(sessionId), () => this.wake(hub));
        this.hubs.set(sessionId, hub);
        this.subscribePresence();
        // A wake-up may have been published between reading eventSeq and subscribing.
        void this.pull(hub);
        return hub;
      })().finally(() => this.creating.delete(sessionId));
      this.creating.set(sessionId, pending);
    }
    return pending;
  }

  /** Sends the client what it missed; a client further back than the log goes gets `reset` (reload the state). */
  private async catchUp(hub: Hub, client: Client, gone: () => boolean) {
    if (client.seq > hub.seq) void this.pull(hub);
    while (!gone() && client.seq < hub.seq) {
      const oldest = await oldestLiveEventSeq(this.deps.db, hub.sessionId);
      if (oldest === null || oldest > client.seq + 1) {
        this.send(client, Buffer.from(`id: ${hub.seq}\nevent: reset\ndata: {}\n\n`));
        client.seq = hub.seq;
        return;
      }
      const rows = await readLiveEvents(this.deps.db, { sessionId: hub.sessionId, afterSeq: client.seq, limit: BATCH });
      if (rows.length === 0) return;
      for (const row of rows) {
        if (row.audience === "all" || client.host) this.send(client, frame(row));
        client.seq = row.seq;
      }
    }
  }

  /**
   * A wake-up reads the log at once, unless a read started less than
   * `coalesceMs` ago: then one read follows at the end of that window. A burst
   * of claims (each a stock count) becomes one write per viewer instead of one
   * per claim, and nothing waits more than the window.
   */
  private wake(hub: Hub) {
    if (hub.pullTimer) return;
    const wait = hub.lastPull + this.coalesceMs - Date.now();
    if (wait <= 0) {
      void this.pull(hub);
      return;
    }
    hub.pullTimer = setTimeout(() => {
      hub.pullTimer = null;
      void this.pull(hub);
    }, wait);
    hub.pullTimer.unref();
  }

  /** Reads the log past the hub's position once and writes each new event to every stream that lacks it. */
  private async pull(hub: Hub) {
    if (hub.pulling) {
      hub.again = true;
      return;
    }
    hub.pulling = true;
    hub.lastPull = Date.now();
    try {
      do {
        hub.again = false;
        for (;;) {
          const rows = await readLiveEvents(this.deps.db, { sessionId: hub.sessionId, afterSeq: hub.seq, limit: BATCH });
          if (rows.length === 0) break;
          this.fanOut(hub, rows);
          if (rows.length < BATCH) break;
        }
      } while (hub.again && this.hubs.get(hub.sessionId) === hub);
    } catch (err) {
      this.deps.logger.error({ err, sessionId: hub.sessionId }, "live: could not read the event log; streams catch up at the next event");
    } finally {
      hub.pulling = false;
    }
  }

  private fanOut(hub: Hub, rows: LiveEventRow[]) {
    // A stream still holding more than the limit from earlier writes has not
    // read since: it goes. The ones that remain get this whole batch.
    for (const client of [...hub.clients]) this.dropIfBehind(client);
    // Within one read, a stock count superseded by a later one for the same item is not worth sending.
    const lastStock = new Map<string, number>();
    for (const row of rows) if (row.type === "stock") lastStock.set(itemOf(row), row.seq);
    for (const row of rows) {
      if (row.type === "stock" && lastStock.get(itemOf(row)) !== row.seq) continue;
      const bytes = frame(row);
      for (const client of hub.clients) {
        if (client.seq >= row.seq) continue;
        if (row.audience === "all" || client.host) this.write(client, bytes);
      }
    }
    const last = rows[rows.length - 1]!.seq;
    for (const client of hub.clients) if (client.seq < last) client.seq = last;
    hub.seq = Math.max(hub.seq, last);
  }

  /** Writes unless the stream is behind (see dropIfBehind). */
  private send(client: Client, bytes: Buffer | string) {
    if (!this.dropIfBehind(client)) this.write(client, bytes);
  }

  private write(client: Client, bytes: Buffer | string) {
    const res = client.res;
    if (res.destroyed || res.writableEnded) return;
    if (!res.write(bytes) && client.stalledSince === null) client.stalledSince = Date.now();
  }

  /**
   * Bytes written earlier that the client has not taken yet stay in this
   * process once the kernel's buffers are full. A stream is closed — rather
   * than buffered without bound — when it holds more than `maxBufferedBytes`
   * and has not drained for two heartbeats (it stopped reading), or at once
   * past sixteen times that (it cannot keep up at all). The browser then
   * reconnects with Last-Event-ID and catches up from the log. Checked
   * between batches and at each heartbeat, so a burst to a reader that is
   * keeping up is not mistaken for a stalled one.
   */
  private dropIfBehind(client: Client): boolean {
    const res = client.res;
    if (res.destroyed || res.writableEnded) return true;
    const pending = res.writableLength;
    if (pending <= this.maxBufferedBytes) return false;
    const stalledFor = client.stalledSince === null ? 0 : Date.now() - client.stalledSince;
    if (pending <= 16 * this.maxBufferedBytes && stalledFor < 2 * this.heartbeatMs) return false;
    this.dropped += 1;
    res.destroy();
    return true;
  }

  private disposeIfIdle(hub: Hub) {
    if (hub.clients.size === 0 && hub.joining === 0 && this.hubs.get(hub.sessionId) === hub) this.dispose(hub);
  }

  private dispose(hub: Hub) {
    hub.unsubscribe();
    if (hub.viewersTimer) clearTimeout(hub.viewersTimer);
    if (hub.pullTimer) clearTimeout(hub.pullTimer);
    this.hubs.delete(hub.sessionId);
    if (this.hubs.size === 0) {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      this.unsubscribePresence?.();
      this.unsubscribePresence = null;
    }
  }

  /**
   * One timer per instance, alive only while streams are open: a comment line
   * to every stream (keeps proxies from closing idle streams, and finds dead
   * or non-reading ones), and this instance's viewer counts for the others.
   * It is connection upkeep, not background work, so it is not a job.
   */
  private ensureHeartbeat() {
    if (this.heartbeat || this.closed) return;
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  private beat() {
    const ping = Buffer.from(": ping\n\n");
    const sessions: Record<string, number> = {};
    for (const hub of this.hubs.values()) {
      for (const client of hub.clients) this.send(client, ping);
      sessions[hub.sessionId] = new Set([...hub.clients].filter((c) => !c.host).map((c) => c.visitor)).size;
    }
    void this.deps.broadcaster.publish("live-presence", { type: "presence", instance: this.instanceId, sessions }).catch(() => undefined);
  }

  private subscribePresence() {
    if (this.unsubscribePresence) return;
    this.unsubscribePresence = this.deps.broadcaster.subscribe("live-presence", (m: BroadcastMessage) => {
      if (m.type !== "presence" || typeof m.instance !== "string" || m.instance === this.instanceId) return;
      if (typeof m.sessions !== "object" || m.sessions === null) return;
      this.remote.set(m.instance, { sessions: m.sessions as Record<string, number>, at: Date.now() });
    });
  }

  /** Host consoles hear the viewer count (debounced), and the session's peak is raised when it grows. */
  private viewersChanged(hub: Hub) {
    if (!hub.viewersTimer) {
      hub.viewersTimer = setTimeout(() => {
        hub.viewersTimer = null;
        const now = this.viewersNow(hub.sessionId);
        const bytes = Buffer.from(`event: viewers\ndata: ${JSON.stringify({ now })}\n\n`);
        for (const client of hub.clients) if (client.host) this.send(client, bytes);
      }, 500);
      hub.viewersTimer.unref();
    }
    if (!hub.peakTimer) {
      hub.peakTimer = setTimeout(() => {
        hub.peakTimer = null;
        const n = this.viewersNow(hub.sessionId);
        if (n === 0) return;
        this.deps.db.liveSession
          .updateMany({ where: { id: hub.sessionId, peakViewers: { lt: n } }, data: { peakViewers: n } })
          .catch((err: unknown) => this.deps.logger.warn({ err }, "live: could not record the peak viewer count"));
      }, 1000);
      hub.peakTimer.unref();
    }
  }
}

function frame(row: LiveEventRow): Buffer {
  return Buffer.from(`id: ${row.seq}\nevent: ${row.type}\ndata: ${row.data}\n\n`);
}

function itemOf(row: LiveEventRow): string {
  const m = /"itemId":"([^"]*)"/.exec(row.data);
  return m ? m[1]! : "";
}
