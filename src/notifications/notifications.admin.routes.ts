import { Router, type Request, type Response } from "express";
import type { Deps } from "../deps.js";
import { urlFor } from "../http/urls.js";
import { zodDetails } from "../http/validate.js";
import { NotificationSettingsForm, ThresholdForm } from "./notifications.schema.js";
import { findLowStock, getNotificationSettings, listThresholdOverrides, ownerAddress, setVariantThreshold, updateNotificationSettings } from "./notifications.service.js";

/** /admin/settings/notifications: what the owner is emailed about, how, where, and per-variant low-stock thresholds. */
export function notificationsAdminRoutes(deps: Deps) {
  const router = Router();
  const actor = (res: Response) => ({ type: "admin" as const, id: (res.locals.admin as { id: string }).id });

  const render = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    const settings = await getNotificationSettings(deps.db);
    const [to, overrides, low] = await Promise.all([ownerAddress(deps, settings), listThresholdOverrides(deps), findLowStock(deps, { threshold: settings.lowStockThreshold, limit: 50 })]);
    res.render("admin/notifications", {
      layout: "admin",
      nav: "notifications",
      title: res.locals.t("notify.settings.title"),
      s: settings,
      to,
      overrides,
      low,
      saved: req.query.saved === "1",
      ...extra,
    });
  };

  router.get("/", async (req, res) => {
    await render(req, res);
  });

  router.post("/", async (req, res) => {
    const parsed = NotificationSettingsForm.safeParse(req.body);
    if (!parsed.success) {
      res.status(400);
      return render(req, res, { problems: zodDetails(parsed.error) });
    }
    const { _csrf: _token, ...form } = parsed.data;
    await updateNotificationSettings(deps, {
      patch: { ...form, orderPaid: !!form.orderPaid, reviewPending: !!form.reviewPending, questionNew: !!form.questionNew, lowStock: !!form.lowStock },
      actor: actor(res),
    });
    res.redirect(303, urlFor(req, "/admin/settings/notifications?saved=1"));
  });

  router.post("/thresholds", async (req, res) => {
    const parsed = ThresholdForm.safeParse(req.body);
    if (!parsed.success) {
      res.status(400);
      return render(req, res, { problems: zodDetails(parsed.error) });
    }
    await setVariantThreshold(deps, { sku: parsed.data.sku, threshold: parsed.data.threshold === "" ? null : parsed.data.threshold, actor: actor(res) });
    res.redirect(303, urlFor(req, "/admin/settings/notifications?saved=1#thresholds"));
  });

  return router;
}
