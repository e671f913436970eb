import type { RequestHandler } from "express";
import { directionOf, isLocale, translateForPage, type Locale } from "../i18n/translate.js";
import { cookieOptions } from "./cookies.js";

const COOKIE = "bz_lang";

/**
 * Picks the page language: `?lang=` (remembered in a cookie), then the
 * cookie, then the shop's default locale. Exposes `t()` to handlers.
 */
export function localeMiddleware(defaultLocale: Locale): RequestHandler {
  return (req, res, next) => {
    const asked = req.query.lang;
    let locale: Locale = defaultLocale;
    if (isLocale(asked)) {
      locale = asked;
      if (req.cookies?.[COOKIE] !== asked) res.cookie(COOKIE, asked, cookieOptions(req, { maxAge: 365 * 24 * 3600 * 1000 }));
    } else if (isLocale(req.cookies?.[COOKIE])) {
      locale = req.cookies[COOKIE];
    }
    res.locals.locale = locale;
    res.locals.defaultLocale = defaultLocale;
    res.locals.dir = directionOf(locale);
    res.locals.t = (key: string, vars?: Record<string, unknown>) => translateForPage(locale, key, vars);
    next();
  };
}
