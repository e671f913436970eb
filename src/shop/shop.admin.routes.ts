import { Router, type Response } from "express";
import type { Actor } from "../audit/audit.service.js";
import { minorToDecimal } from "../catalog/money.js";
import type { Deps } from "../deps.js";
import { AppError } from "../http/errors.js";
import { filesOf, multipartForm } from "../http/uploads.js";
import { urlFor } from "../http/urls.js";
import { validate } from "../http/validate.js";
import { countryOptions } from "../i18n/countries.js";
import type { Locale } from "../i18n/translate.js";
import { MAX_IMAGE_BYTES } from "../media/media.service.js";
import { RETURN_FEES, SOCIAL_PLATFORMS, ShopSettingsForm, ShopSettingsPageQuery, type ShopProfile } from "./shop.schema.js";
import { configuredShopName, getShopProfile, updateShopSettings, type SettingsProblem } from "./shop.service.js";

/** Form field → the message key of its label, so problems name what the person sees. */
const FIELD_LABELS: Record<string, string> = {
  name: "shop.field.name",
  logo: "shop.field.logo",
  bioEn: "shop.field.bioEn",
  bioFa: "shop.field.bioFa",
  countries: "shop.field.countries",
  returnsDays: "shop.returns.days",
  returnsFee: "shop.returns.fee",
  returnsFeeAmount: "shop.returns.feeAmountLabel",
  returnsCountry: "shop.returns.country",
};

type T = (key: string, vars?: Record<string, unknown>) => string;
type Values = Record<string, string | string[]>;

/** Admin → Shop settings: name, logo, bio, social accounts, where the shop sells, returns. Under /admin. */
export function shopAdminRoutes(deps: Deps) {
  const router = Router();
  const upload = multipartForm({ fields: [{ name: "logo", maxCount: 1 }], maxFileBytes: MAX_IMAGE_BYTES });
  const actor = (res: Response): Actor => ({ type: "admin", id: (res.locals.admin as { id: string } | undefined)?.id ?? null });

  router.get("/shop", validate({ query: ShopSettingsPageQuery }), async (req, res) => {
    const profile = await getShopProfile(deps);
    render(res, { values: profileToValues(profile, deps.shop.currency), problems: [], profile, saved: req.valid.query.saved === "1" });
  });

  router.post("/shop", upload, async (req, res) => {
    const profile = await getShopProfile(deps);
    const body = (req.body ?? {}) as Values;
    const parsed = ShopSettingsForm.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? "form"), message: i.message }));
      render(res.status(400), { values: body, problems, profile });
      return;
    }
    const logo = filesOf(req, "logo")[0]?.buffer;
    try {
      await updateShopSettings(deps, { form: parsed.data, logo, actor: actor(res) });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const details = Array.isArray(err.details) ? (err.details as SettingsProblem[]) : [{ field: "form", message: err.message }];
      render(res.status(err.status), { values: body, problems: details, profile });
      return;
    }
    res.redirect(303, `${urlFor(req, "/admin/shop")}?saved=1`);
  });

  function render(res: Response, view: { values: Values; problems: SettingsProblem[]; profile: ShopProfile; saved?: boolean }) {
    const t = res.locals.t as T;
    const locale = res.locals.locale as Locale;
    const v = view.values;
    const one = (k: string) => (Array.isArray(v[k]) ? String((v[k] as string[]).at(-1) ?? "") : String(v[k] ?? ""));
    const chosen = new Set(([] as string[]).concat(v.countries ?? []));
    const errors = Object.fromEntries(view.problems.map((p) => [p.field, p.message]));
    const countries = countryOptions(locale);
    res.render("admin/shop", {
      layout: "admin",
      nav: "shop",
      title: t("shop.title"),
      saved: view.saved,
      problems: view.problems.map((p) => ({ ...p, label: FIELD_LABELS[p.field] ? t(FIELD_LABELS[p.field]!) : p.field.startsWith("social_") ? t(`shop.social.${p.field.slice(7)}`) : "" })),
      errors,
      v: { name: one("name"), bioEn: one("bioEn"), bioFa: one("bioFa"), returnsDays: one("returnsDays"), returnsFeeAmount: one("returnsFeeAmount") },
      logo: view.profile.logo?.storageKey ?? null,
      nameHint: t("shop.field.nameHint", { configured: configuredShopName(deps) }),
      socials: SOCIAL_PLATFORMS.map((p) => ({ platform: p, field: `social_${p}`, label: t(`shop.social.${p}`), hint: t(`shop.social.hint.${p}`), value: one(`social_${p}`), error: errors[`social_${p}`] })),
      countries: countries.map((c) => ({ ...c, selected: chosen.has(c.code) })),
      returnCountries: countries.map((c) => ({ ...c, selected: c.code === (one("returnsCountry") || [...chosen][0]) })),
      fees: RETURN_FEES.map((f) => ({ value: f, label: t(`shop.returns.fee.${f}`), selected: f === (one("returnsFee") || "free") })),
      currency: deps.shop.currency,
      action: `${urlFor(res.req, "/admin/shop")}?_csrf=${encodeURIComponent(res.locals.csrfToken as string)}`,
    });
  }

  return router;
}

/** The stored profile as the form's strings. */
function profileToValues(p: ShopProfile, currency: string): Values {
  return {
    name: p.name,
    bioEn: p.bio.en,
    bioFa: p.bio.fa,
    ...Object.fromEntries(SOCIAL_PLATFORMS.map((s) => [`social_${s}`, p.socials[s] ?? ""])),
    countries: p.countries,
    returnsDays: p.returns ? String(p.returns.days) : "",
    returnsFee: p.returns?.fee ?? "free",
    returnsFeeAmount: p.returns?.feeMinor != null ? minorToDecimal(p.returns.feeMinor, currency) : "",
    returnsCountry: p.returns?.country ?? p.countries[0] ?? "",
  };
}
