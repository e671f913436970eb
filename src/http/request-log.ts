import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * One log line per request with a request id (taken from X-Request-Id when a
 * proxy set a sane one), echoed in the response header. Headers are not
 * logged except the user agent, so cookies and tokens never reach the log.
 */
export function requestLog(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const incoming = req.headers["x-request-id"];
      const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader("X-Request-Id", id);
      return id;
    },
    customLogLevel(_req, res, err) {
      if (err || res.statusCode >= 500) return "error";
      if (res.statusCode >= 400) return "warn";
      return "info";
    },
    serializers: {
      req: (req) => ({ id: req.id, method: req.method, url: String(req.url).replace(/([?&](token|access_token|_csrf)=)[^&]+/g, "$1[redacted]"), ua: req.headers?.["user-agent"] }),
      res: (res) => ({ status: res.statusCode }),
    },
  });
}
