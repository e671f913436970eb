import type * as CsvStringify from "csv-stringify";
import express, { Router } from "express";
import type { Deps } from "../deps.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { markInvalidBytes, NOT_UTF8 } from "../http/well-formed.js";
import { validate } from "../http/validate.js";
import { FOLLOW_PLATFORMS, FollowerListQuery, VERIFICATIONS } from "./followers.schema.js";
import { importFollowers, listFollowers } from "./followers.service.js";
import { lazyModule } from "../lazy.js";

const csvStringify = lazyModule<typeof CsvStringify>("csv-stringify");

const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

/** /admin/followers: list with filters, CSV export, and platform-export import. */
export function followerAdminRoutes(deps: Deps) {
  const router = Router();
  const upload = multipartForm({ fields: [{ name: "file", maxCount: 1 }], maxFileBytes: MAX_IMPORT_BYTES });

  const renderList = async (req: express.Request, res: express.Response, extra: Record<string, unknown> = {}) => {
    const query = FollowerListQuery.parse(req.query);
    const list = await listFollowers(deps, { ...query, limit: 100 });
    res.render("admin/followers", {
      layout: "admin",
      nav: "followers",
      title: res.locals.t("followers.admin.title"),
      followers: list.items,
      total: list.total,
      nextCursor: list.nextCursor,
      filter: query,
      platforms: FOLLOW_PLATFORMS.map((p) => ({ value: p, selected: p === query.platform })),
      verifications: VERIFICATIONS.map((v) => ({ value: v, selected: v === query.verification })),
      importAction: `${res.locals.base}/admin/followers/import?_csrf=${encodeURIComponent(res.locals.csrfToken as string)}`,
      ...extra,
    });
  };

  router.get("/", validate({ query: FollowerListQuery }), async (req, res) => {
    await renderList(req, res);
  });

  // Streams every matching follower, page by page, so a large list never sits in memory.
  router.get("/export.csv", validate({ query: FollowerListQuery }), async (req, res) => {
    res.type("text/csv; charset=utf-8").attachment("followers.csv");
    const csv = csvStringify().stringify({ header: true, columns: ["platform", "handle", "email", "status", "verification", "followed_at", "email_confirmed_at", "imported_at"] });
    csv.pipe(res);
    let cursor: string | undefined;
    do {
      const page = await listFollowers(deps, { ...(req.valid.query as object), cursor, limit: 500 });
      for (const f of page.items) {
        csv.write([f.platform, f.handle, f.email ?? "", f.status, f.verification, f.followedAt?.toISOString() ?? "", f.emailConfirmedAt?.toISOString() ?? "", f.importedAt?.toISOString() ?? ""]);
      }
      cursor = page.nextCursor;
    } while (cursor);
    csv.end();
  });

  router.post("/import", upload, async (req, res) => {
    const file = filesOf(req, "file")[0];
    const dryRun = (req.body as { action?: string }).action !== "apply";
    if (!file) {
      res.status(400);
      return renderList(req, res, { importProblems: [{ line: 0, column: "file", message: "Choose a CSV file." }] });
    }
    // Bytes that are not UTF-8 are reported by the import at their line and column.
    const text = markInvalidBytes(file.buffer, NOT_UTF8);
    const report = await importFollowers(deps, { csv: text, dryRun, actor: { type: "admin", id: (res.locals.admin as { id: string }).id } });
    if (!report.ok) res.status(422);
    await renderList(req, res, { importReport: report, importProblems: report.problems });
  });

  return router;
}
