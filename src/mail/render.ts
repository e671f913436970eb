import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { directionOf, type Locale } from "../i18n/translate.js";
import { registerHelpers } from "../views/register-helpers.js";

/**
 * Email templates: views/emails/<name>.text.hbs and <name>.html.hbs, each
 * wrapped in views/emails/layout.{text,html}.hbs. A private Handlebars
 * instance with the page helpers ({{t}}, {{money}}, {{date}} read the
 * recipient's locale from the data). Text templates do not HTML-escape.
 */
const EMAILS_DIR = fileURLToPath(new URL("../../views/emails", import.meta.url));

const hbs = Handlebars.create();
registerHelpers(hbs);
const cache = new Map<string, Handlebars.TemplateDelegate | null>();

function template(file: string, kind: "text" | "html"): Handlebars.TemplateDelegate | null {
  const full = path.join(EMAILS_DIR, `${file}.${kind}.hbs`);
  let compiled = cache.get(full);
  if (compiled === undefined) {
    compiled = existsSync(full) ? hbs.compile(readFileSync(full, "utf8"), { strict: false, preventIndent: true, noEscape: kind === "text" }) : null;
    cache.set(full, compiled);
  }
  return compiled;
}

/** Template names are file names: letters, digits, dots, dashes and underscores only. */
const safeName = (name: string) => /^[a-z0-9._-]{1,80}$/i.test(name) && !name.includes("..");

export function hasEmailTemplate(name: string) {
  return safeName(name) && name !== "layout" && template(name, "text") !== null && template(name, "html") !== null;
}

export interface RenderContext {
  locale: Locale | null;
  subject: string;
  /** Absolute one-click unsubscribe URL (marketing mail only). */
  unsubscribeUrl?: string;
}

function layoutData(ctx: RenderContext, data: Record<string, unknown>) {
  return {
    ...data,
    // {{t}} falls back to English when the recipient's language is unknown.
    locale: ctx.locale ?? "en",
    htmlLang: ctx.locale,
    dir: ctx.locale ? directionOf(ctx.locale) : "auto",
    rtl: ctx.locale === "fa",
    subject: ctx.subject,
    unsubscribeUrl: ctx.unsubscribeUrl,
  };
}

/** Both parts of a templated email, in the recipient's language. */
export function renderEmail(name: string, ctx: RenderContext, data: Record<string, unknown>) {
  const text = template(name, "text");
  const html = template(name, "html");
  if (!safeName(name) || !text || !html) throw new Error(`No email template "${name}" in views/emails`);
  const d = layoutData(ctx, data);
  return {
    text: template("layout", "text")!({ ...d, body: text(d).trim() }).trim() + "\n",
    html: template("layout", "html")!({ ...d, body: html(d) }),
  };
}

const URL_IN_TEXT = /(https?:\/\/[^\s<>"]+|(?<=^|\s)\/[^\s<>"]*\?[^\s<>"]+|(?<=^|\s)\/[a-z][^\s<>"]*)/gi;

/**
 * The HTML part for an email queued with text only (a feature that has no
 * template of its own): the text, escaped, in paragraphs, with its links
 * made clickable, inside the same layout as every other email.
 */
export function htmlFromText(text: string, ctx: RenderContext, data: Record<string, unknown> = {}) {
  const escape = Handlebars.Utils.escapeExpression;
  const paragraphs = text
    .trim()
    .split(/\n{2,}/)
    .map((para) => {
      const lines = para.split("\n").map((line) => {
        let out = "";
        let last = 0;
        for (const m of line.matchAll(URL_IN_TEXT)) {
          out += escape(line.slice(last, m.index));
          out += `<a href="${escape(m[0])}" dir="ltr">${escape(m[0])}</a>`;
          last = m.index + m[0].length;
        }
        return out + escape(line.slice(last));
      });
      return `<p dir="auto" style="margin:0 0 16px">${lines.join("<br>")}</p>`;
    })
    .join("\n");
  return template("layout", "html")!({ ...layoutData(ctx, data), body: paragraphs });
}

/** The text part with the layout's footer (the unsubscribe line on marketing mail). */
export function textWithLayout(text: string, ctx: RenderContext, data: Record<string, unknown> = {}) {
  return template("layout", "text")!({ ...layoutData(ctx, data), body: text.trim() }).trim() + "\n";
}

/**
 * Links stored relative to the shop (queued while no public URL was known:
 * "/follow/confirm?token=…") made absolute against `base`: at send time
 * against PUBLIC_URL, in the admin's outbox against the admin's own address.
 */
export function absoluteLinks(body: { text: string; html: string | null }, base: string) {
  const b = base.replace(/\/+$/, "");
  return {
    text: body.text.replace(/(^|\s)\/(?=[a-z])(\S*)/gi, (_m, pre: string, rest: string) => `${pre}${b}/${rest}`),
    html: body.html === null ? null : body.html.replace(/href="\/(?!\/)/g, `href="${b}/`),
  };
}
