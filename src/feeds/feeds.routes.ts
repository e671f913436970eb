import { Router, type Request, type Response } from "express";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { urlFor } from "../http/urls.js";
import { validate, zodDetails, zodMessage } from "../http/validate.js";
import type { Locale } from "../i18n/translate.js";
import { countryName } from "../i18n/countries.js";
import { FEED_FILES, FeedHealthPageQuery, FeedParams, FeedQuery, HealthQuery, TokenForm } from "./feeds.schema.js";
import {
  authorizeFeedRequest,
  clearFeedToken,
  describeProblem,
  FORMATS,
  getFeedHealth,
  getFeedVersion,
  rotateFeedToken,
  streamFeed,
  type FeedHealth,
  type FeedSink,
} from "./feeds.service.js";

/** Bytes gathered before one write to the socket: fewer, larger writes, still flat memory. */
const FLUSH_BYTES = 64 * 1024;
const FEED_HEADERS = ["ETag", "Last-Modified", "Cache-Control", "Content-Disposition", "Content-Type", "X-Robots-Tag"];

/** Public feed files, /feeds/<platform>.<ext>. GET only, no cookies, so no CSRF concern. */
export function feedRoutes(deps: Deps) {
  const router = Router();

  router.get("/:file", async (req, res) => {
    const params = FeedParams.safeParse(req.params);
    if (!params.success) {
      throw new AppError("not_found", 404, `No such feed. The feeds are ${Object.keys(FEED_FILES).map((f) => `/feeds/${f}`).join(", ")}.`);
    }
    const query = FeedQuery.safeParse(req.query);
    if (!query.success) throw AppError.validation(zodMessage(query.error, "Invalid query string"), zodDetails(query.error));

    const platform = FEED_FILES[params.data.file];
    const format = FORMATS[platform];
    const { tokenRequired } = await authorizeFeedRequest(deps, { token: query.data.token });
    const publicBase = res.locals.publicBase as string;
    const version = await getFeedVersion(deps, { platform, publicBase });

    res.set({
      "Content-Type": format.contentType,
      "Content-Disposition": `inline; filename="${format.fileName}"`,
      ETag: version.etag,
      "Last-Modified": version.lastModified.toUTCString(),
      // Stock can change without any edit (a hold expires), so every fetch
      // revalidates; a 304 costs one aggregate query. A token URL must not
      // sit in shared caches.
      "Cache-Control": `${tokenRequired ? "private" : "public"}, no-cache`,
      "X-Robots-Tag": "noindex",
    });
    if (notModified(req, version.etag, version.lastModified)) {
      res.status(304).end();
      return;
    }
    if (req.method === "HEAD") {
      res.end();
      return;
    }

    const sink = responseSink(res);
    try {
      await streamFeed(deps, { platform, publicBase }, sink);
      await sink.end();
    } catch (err) {
      if (!res.headersSent) {
        for (const name of FEED_HEADERS) res.removeHeader(name);
        throw err;
      }
      // Part of the file is out. Ending it normally would hand the platform a
      // short but valid-looking feed, and a missing item is deleted on their
      // side; cutting the connection makes the fetch fail and be retried.
      req.log?.error({ err }, "feed stream failed");
      res.destroy();
    }
  });

  return router;
}

/**
 * RFC 9110 conditional GET: If-None-Match wins when present (weak comparison,
 * "*" or a list); otherwise If-Modified-Since at one-second precision.
 * Express's req.fresh is not used because it answers 200 whenever the request
 * says "Cache-Control: no-cache", which fetch() adds to every conditional
 * request; that directive is for caches, not for the origin.
 */
function notModified(req: Request, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = req.get("if-none-match");
  if (ifNoneMatch !== undefined) {
    const bare = (tag: string) => tag.trim().replace(/^W\//, "");
    return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => bare(tag) === bare(etag));
  }
  const since = Date.parse(req.get("if-modified-since") ?? "");
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/**
 * A sink over the HTTP response: encodes item strings straight into a
 * 64 KiB buffer and writes whole buffers. Joining the strings first and
 * handing the socket one big string costs two extra passes over every byte
 * (flattening, then UTF-8 encoding into a temporary native copy per write;
 * the socket's writev alone was 14 % of a profile of Google's feed). When the socket's
 * buffer is full it waits for "drain" (or the client leaving) before the
 * feed reads more rows. One "drain" listener for the whole response: the
 * compression middleware forwards `on("drain")` to its compressor but not
 * `off()`, so a listener per wait would pile up there.
 */
function responseSink(res: Response): FeedSink & { end(): Promise<void> } {
  // Buffers come back to `spare` once the socket has sent them (the write's
  // callback), so a feed cycles through a few instead of allocating one per
  // 64 KiB: fresh buffers count as external memory, and V8 answers a growing
  // amount of that with full garbage collections. Behind the compression
  // middleware the callback is not passed on and buffers are simply dropped.
  const spare: Buffer[] = [];
  const take = () => spare.pop() ?? Buffer.allocUnsafe(FLUSH_BYTES);
  let buffer = take();
  let used = 0;
  let wake: (() => void) | null = null;
  const resume = () => {
    const done = wake;
    wake = null;
    done?.();
  };
  res.on("drain", resume);
  res.on("close", resume);

  const waitForDrain = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  const flush = () => {
    if (used === 0 || res.destroyed) return undefined;
    const full = buffer;
    const ok = res.write(full.subarray(0, used), () => spare.push(full));
    buffer = take();
    used = 0;
    return ok ? undefined : waitForDrain();
  };
  return {
    write(chunk) {
      // Text takes at most 3 bytes of UTF-8 per UTF-16 unit, so text that passes this check always fits whole.
      const text = typeof chunk === "string";
      const size = text ? chunk.length * 3 : chunk.length;
      let pending: Promise<void> | undefined;
      if (used + size > FLUSH_BYTES) {
        pending = flush();
        if (size > FLUSH_BYTES) {
          // Larger than a buffer (a head with a long shop name): written as it is, after what came before.
          const send = () => (res.destroyed || res.write(chunk) ? undefined : waitForDrain());
          return pending ? pending.then(send) : send();
        }
        // Into the next buffer, which goes out after the one being flushed.
      }
      if (text) used += buffer.write(chunk, used);
      else {
        buffer.set(chunk, used);
        used += chunk.length;
      }
      return pending;
    },
    get closed() {
      return res.destroyed;
    },
    async end() {
      await flush();
      if (!res.destroyed) res.end();
    },
  };
}

/** Admin "Feed health" page and the feed-token forms; mounted under /admin behind requireAdmin. */
export function feedAdminRoutes(deps: Deps) {
  const router = Router();

  router.get("/feeds", validate({ query: FeedHealthPageQuery }), async (req, res) => {
    const health = await getFeedHealth(deps, { publicBase: res.locals.publicBase });
    const t = res.locals.t as (key: string, vars?: Record<string, unknown>) => string;
    const locale = res.locals.locale as Locale;
    res.render("admin/feed-health", {
      layout: "admin",
      title: t("feeds.title"),
      nav: "feeds",
      done: req.valid.query.done,
      health,
      platforms: health.platforms.map((p) => ({ ...p, label: t(`feeds.platform.${p.platform}`), paste: t(`feeds.paste.${p.platform}`) })),
      problems: describeRows(res.locals.locale as Locale, health).map((p) => ({ ...p, platformLabel: t(`feeds.platform.${p.platform}`) })),
      truncated: health.problemCount > health.problems.length,
      targetNames: health.targetCountries.map((c) => countryName(c, locale)).join(locale === "fa" ? "، " : ", ") || t("feeds.countries.none"),
    });
  });

  router.post("/feeds/token", validate({ body: TokenForm }), async (req, res) => {
    await rotateFeedToken(deps);
    res.redirect(303, `${urlFor(req, "/admin/feeds")}?done=rotated`);
  });

  router.post("/feeds/token/clear", validate({ body: TokenForm }), async (req, res) => {
    await clearFeedToken(deps);
    res.redirect(303, `${urlFor(req, "/admin/feeds")}?done=cleared`);
  });

  return router;
}

/** JSON twin of the Feed health page, /api/v1/feeds; mounted behind requireApiToken. */
export function feedApiRoutes(deps: Deps) {
  const router = Router();

  router.get("/health", validate({ query: HealthQuery }), async (req, res) => {
    const health = await getFeedHealth(deps, { publicBase: res.locals.publicBase });
    const only = req.valid.query.platform as string | undefined;
    const problems = describeRows(req.valid.query.lang ?? "en", health).filter((p) => !only || p.platform === only);
    res.json({
      data: {
        ...health,
        platforms: health.platforms.filter((p) => !only || p.platform === only),
        problems,
      },
    });
  });

  return router;
}

function describeRows(locale: Locale, health: FeedHealth) {
  return health.problems.map((p) => ({ ...p, ...describeProblem(locale, p) }));
}
