import type { Writable } from "node:stream";

/**
 * A pino destination that writes one short, human-readable line per log entry
 * instead of JSON: what a person starting the shop in a terminal can read.
 * Production (stdout not a terminal) keeps pino's JSON lines, one per entry,
 * for log collectors. Written here rather than taking pino-pretty: the lines
 * need only a time, a level, the request and a few fields.
 *
 *   12:04:05 INFO  GET /p/blue-mug 200 13 ms
 *   12:04:07 WARN  POST /cart/items 409 8 ms
 *   12:05:00 ERROR feed stream failed  err=Error: disk full
 */
export interface PrettyDestination {
  write(line: string): void;
  /**
   * Runs `fn` once after the first page view (a GET of a page, not an asset)
   * and the requests that follow it (its styles, scripts, images) have been
   * logged: when `quietMs` pass with no new log line.
   */
  afterFirstPageView(fn: () => void, quietMs?: number): void;
}

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
const COLORS: Record<number, string> = { 10: "90", 20: "90", 30: "32", 40: "33", 50: "31", 60: "31" };
// Fields every entry has, or that the request line already shows.
const SKIP = new Set(["level", "time", "pid", "hostname", "msg", "req", "res", "responseTime", "err", "v"]);
// Not page views: files, probes, machine endpoints.
const NOT_A_PAGE = /^\/(assets|media|embed|favicon|health|ready|api\/|feeds\/|webhooks\/)|\.(css|js|json|xml|csv|png|jpe?g|webp|svg|woff2?|ico)(\?|$)/;

export function prettyDestination(out: Pick<Writable, "write">, options: { color: boolean }): PrettyDestination {
  let pending: { fn: () => void; quietMs: number } | null = null;
  let seenPage = false;
  let timer: NodeJS.Timeout | undefined;
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);

  return {
    afterFirstPageView(fn, quietMs = 1500) {
      pending = { fn, quietMs };
    },
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const level = Number(entry.level);
      const time = new Date(Number(entry.time) || Date.now()).toISOString().slice(11, 19);
      const req = entry.req as { method?: string; url?: string } | undefined;
      const res = entry.res as { status?: number } | undefined;
      let text: string;
      if (req && res) {
        const ms = typeof entry.responseTime === "number" ? ` ${Math.round(entry.responseTime)} ms` : "";
        text = `${req.method ?? ""} ${req.url ?? ""} ${res.status ?? ""}${ms}`;
      } else {
        text = String(entry.msg ?? "");
      }
      const extra = Object.entries(entry)
        .filter(([k]) => !SKIP.has(k))
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
      const err = entry.err as { type?: string; message?: string; stack?: string } | undefined;
      let lineOut = `${paint("90", time)} ${paint(COLORS[level] ?? "0", LEVELS[level] ?? String(level))} ${text}${extra.length ? `  ${paint("90", extra.join(" "))}` : ""}\n`;
      if (err) lineOut += `${(err.stack ?? `${err.type}: ${err.message}`).replace(/^/gm, "    ")}\n`;
      out.write(lineOut);

      if (!pending) return;
      if (req?.method === "GET" && res && !NOT_A_PAGE.test(req.url ?? "")) seenPage = true;
      if (!seenPage) return;
      clearTimeout(timer);
      const { fn, quietMs } = pending;
      timer = setTimeout(() => {
        pending = null;
        fn();
      }, quietMs);
      // Never keeps the process alive on its own.
      timer.unref();
    },
  };
}
