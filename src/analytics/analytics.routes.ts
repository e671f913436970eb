import { Router, type Request, type RequestHandler, type Response } from "express";
import type { Deps } from "../deps.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { urlFor } from "../http/urls.js";
import { AppError } from "../http/errors.js";
import { validate, zodDetails, zodMessage } from "../http/validate.js";
import type { Locale } from "../i18n/translate.js";
import { countOutboxAttention } from "../mail/outbox.service.js";
import { MAX_IMAGE_BYTES } from "../media/media.service.js";
import { CsvParams, OBJECT_KINDS, ObjectParams, OnboardingTickBody, RangeQuery, type ObjectKind, type RangeQueryT, type TableName } from "./analytics.schema.js";
import { getObjectFigures, resolveRange } from "./analytics.service.js";
import { tableCsv, objectCsv } from "./csv.js";
import { getDashboardCached } from "./dashboard.service.js";
import { dashboardView, formatsFor, objectPanelView } from "./dashboard.view.js";
import { dayOf } from "./days.js";
import { getOnboarding, tickOnboarding } from "./onboarding.service.js";

/** GET /admin: the dashboard for ?range=today|7d|30d (default 30 days) or a custom from/to. */
export function dashboardPage(deps: Deps): RequestHandler[] {
  return [
    validate({ query: RangeQuery }),
    async (req, res) => {
      const locale = res.locals.locale as Locale;
      const range = resolveRange(deps, req.valid.query as RangeQueryT);
      const f = formatsFor(locale, deps.shop.currency);
      const { data: dashboard, checklistHidden } = await getDashboardCached(deps, { range, locale });
      const [onboarding, outbox] = await Promise.all([
        checklistHidden ? null : getOnboarding(deps, { publicBase: res.locals.publicBase as string, skipIfDismissed: true }),
        countOutboxAttention(deps),
      ]);
      res.set("Cache-Control", "no-store");
      res.render("admin/dashboard", { layout: "admin", title: res.locals.t("admin.dashboard"), nav: "dashboard", currency: deps.shop.currency, outbox, dash: viewOf(dashboard, f, dayOf(deps.now()), onboarding) });
    },
  ];
}

const views = new WeakMap<object, Map<string, ReturnType<typeof dashboardView>>>();

/** The page's view of cached figures is kept with them (without a checklist, it depends on nothing else). */
function viewOf(dashboard: Awaited<ReturnType<typeof getDashboardCached>>["data"], f: ReturnType<typeof formatsFor>, today: number, onboarding: Awaited<ReturnType<typeof getOnboarding>> | null) {
  if (onboarding) return dashboardView(dashboard, f, today, onboarding);
  let byKey = views.get(dashboard);
  if (!byKey) views.set(dashboard, (byKey = new Map()));
  const key = `${f.locale}:${f.currency}:${today}`;
  let view = byKey.get(key);
  if (!view) byKey.set(key, (view = dashboardView(dashboard, f, today, null)));
  return view;
}

/** /admin/analytics/… and /admin/onboarding; mounted behind requireAdmin. */
export function analyticsAdminRoutes(deps: Deps) {
  const router = Router();

  router.get("/analytics/export/:table.csv", validate({ params: CsvParams, query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    const table = req.valid.params.table as TableName;
    const body = await tableCsv(deps, { table, range, locale: res.locals.locale as Locale });
    sendCsv(res, `${table}-${body.name}.csv`, body.csv);
  });

  router.get("/analytics/objects/:kind/:id.csv", validate({ params: ObjectParams, query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    const figures = await getObjectFigures(deps, { kind: req.valid.params.kind as ObjectKind, id: req.valid.params.id as string, range });
    const body = objectCsv(figures, res.locals.locale as Locale, deps.shop.currency);
    sendCsv(res, `${figures.kind}-${figures.id}-${body.name}.csv`, body.csv);
  });

  router.post("/onboarding", validate({ body: OnboardingTickBody }), async (req, res) => {
    await tickOnboarding(deps, { item: req.valid.body.item, done: req.valid.body.done === "1" });
    res.redirect(303, `${urlFor(req, "/admin")}#onboarding`);
  });


  return router;
}

function sendCsv(res: Response, filename: string, csv: string) {
  res.set({ "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, "_")}"`, "Cache-Control": "no-store" });
  res.send(csv);
}

/**
 * The figures panel of an admin object page (post, link, live session,
 * product, coupon): sets `res.locals.analyticsPanel` for GET /<path>/:id, for
 * the page's template to include with `{{> analytics/object-panel analyticsPanel}}`.
 * The feature's own route still answers the page (and its 404). A bad
 * range is a 400 naming the parameter, like the dashboard's.
 */
export function objectPanel(deps: Deps, kind: ObjectKind): RequestHandler {
  if (!OBJECT_KINDS.includes(kind)) throw new TypeError(`objectPanel: unknown kind ${kind}`);
  return async (req: Request, res: Response, next) => {
    // Object ids are cuids; other paths (new, tag-health, …) are not object pages.
    if (req.method !== "GET" || !/^\/c[a-z0-9]{20,32}\/?$/.test(req.path)) return next();
    const id = req.path.replace(/\//g, "");
    const parsed = RangeQuery.safeParse(req.query);
    if (!parsed.success) throw AppError.validation(zodMessage(parsed.error, "Invalid query string"), zodDetails(parsed.error));
    try {
      res.locals.analyticsPanel = await objectPanelFor(deps, { kind, id, query: parsed.data, locale: res.locals.locale as Locale, basePath: `${req.baseUrl.slice(String(res.locals.base ?? "").length)}/${id}` });
    } catch (err) {
      // A missing object: the page's own route answers its 404.
      if (!(err instanceof AppError && err.status === 404)) throw err;
    }
    next();
  };
}

/** The panel's data for one object; the live-session admin page (and any other) can call this directly. */
export async function objectPanelFor(deps: Deps, input: { kind: ObjectKind; id: string; query: RangeQueryT; locale: Locale; basePath: string }) {
  const range = resolveRange(deps, input.query);
  const figures = await getObjectFigures(deps, { kind: input.kind, id: input.id, range });
  const f = formatsFor(input.locale, deps.shop.currency);
  return objectPanelView(figures, f, dayOf(deps.now()), input.basePath);
}
