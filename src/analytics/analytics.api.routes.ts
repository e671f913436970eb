import { Router } from "express";
import type { Deps } from "../deps.js";
import { validate } from "../http/validate.js";
import { ObjectParams, RangeQuery, SalesQuery, type ObjectKind, type RangeQueryT, type SalesBy } from "./analytics.schema.js";
import { getFollowerFigures, getObjectFigures, getSales, getSocialProof, funnelOf, kpisOf, metricsJson, rangeJson, resolveRange } from "./analytics.service.js";
import { getDashboardCached } from "./dashboard.service.js";
import { dayKey } from "./days.js";
import type { Metrics } from "./aggregate.js";
import { getOnboarding } from "./onboarding.service.js";

const figuresJson = (m: Metrics) => {
  const k = kpisOf(m);
  return { ...metricsJson(m), averageOrderMinor: k.averageOrderMinor, conversionRate: k.conversionRate === null ? null : Number(k.conversionRate.toFixed(6)) };
};

/** /api/v1/analytics/…: the dashboard's figures as JSON. Ranges: range=today|7d|30d, or from/to (YYYY-MM-DD, UTC). */
export function analyticsApiRoutes(deps: Deps) {
  const router = Router();

  router.get("/analytics/sales", validate({ query: SalesQuery }), async (req, res) => {
    const q = req.valid.query as RangeQueryT & { by: SalesBy };
    res.json({ data: await getSales(deps, { range: resolveRange(deps, q), by: q.by }) });
  });

  router.get("/analytics/summary", validate({ query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    const { data: d } = await getDashboardCached(deps, { range, locale: "en" });
    res.json({
      data: {
        range: rangeJson(range),
        currency: deps.shop.currency,
        current: figuresJson(d.totals),
        previous: figuresJson(d.previousTotals),
        coupons: { any: figuresJson(d.coupons.any), followers: figuresJson(d.coupons.followers) },
        liveDays: d.liveDays,
        otherCurrencyOrders: d.otherCurrencyOrders,
      },
    });
  });

  router.get("/analytics/timeseries", validate({ query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    const { data: d } = await getDashboardCached(deps, { range, locale: "en" });
    res.json({
      data: {
        range: rangeJson(range),
        currency: deps.shop.currency,
        days: d.series.map((s) => ({ date: dayKey(s.day), ...figuresJson(s.metrics) })),
        previous: d.previousSeries.map((s) => ({ date: dayKey(s.day), ...figuresJson(s.metrics) })),
      },
    });
  });

  router.get("/analytics/followers", validate({ query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    res.json({ data: { range: rangeJson(range), ...(await getFollowerFigures(deps, range)) } });
  });

  router.get("/analytics/social-proof", validate({ query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    res.json({ data: { range: rangeJson(range), ...(await getSocialProof(deps, range)) } });
  });

  router.get("/analytics/objects/:kind/:id", validate({ params: ObjectParams, query: RangeQuery }), async (req, res) => {
    const range = resolveRange(deps, req.valid.query as RangeQueryT);
    const o = await getObjectFigures(deps, { kind: req.valid.params.kind as ObjectKind, id: req.valid.params.id as string, range });
    res.json({
      data: {
        kind: o.kind,
        id: o.id,
        title: o.title,
        range: rangeJson(range),
        currency: deps.shop.currency,
        current: figuresJson(o.metrics),
        previous: figuresJson(o.previous),
        funnel: funnelOf(o.metrics),
        days: o.series.map((s) => ({ date: dayKey(s.day), ...figuresJson(s.metrics) })),
      },
    });
  });

  router.get("/analytics/onboarding", async (_req, res) => {
    const o = await getOnboarding(deps, { publicBase: res.locals.publicBase as string });
    res.json({ data: { steps: o.steps, done: o.done, total: o.total, complete: o.complete, dismissed: o.dismissed, feeds: o.feeds.map((f) => ({ platform: f.id, url: f.url, pasted: f.pasted })), galleryUrl: o.galleryUrl } });
  });

  return router;
}
