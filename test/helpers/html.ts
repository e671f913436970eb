import * as cheerio from "cheerio";
import type { Response } from "supertest";
import type TestAgent from "supertest/lib/agent.js";

export function load(html: string) {
  return cheerio.load(html);
}

/** The CSRF token of the first form on a page (or the page's csrf-token meta tag). */
export function csrfFrom(html: string): string {
  const $ = load(html);
  const token = $('input[name="_csrf"]').first().attr("value") ?? $('meta[name="csrf-token"]').attr("content");
  if (!token) throw new Error("no _csrf field on the page");
  return token;
}

/**
 * The token a browser uses on a page: the one in it, or, on a page for
 * everyone (from the page cache, carrying none), the one shop.js asks
 * session.json for (which also sets the cookie it is bound to).
 */
export async function csrfForPage(agent: TestAgent, page: Response, mount = "/shop"): Promise<string> {
  if (!String(page.headers["cache-control"] ?? "").startsWith("public")) return csrfFrom(page.text);
  const session = await agent.get(`${mount}/session.json`).expect(200);
  return session.body.csrfToken as string;
}

/** Every URL the page points at: links, assets, form actions, srcset entries, meta URLs. */
export function urlsIn(html: string): string[] {
  const $ = load(html);
  const urls: string[] = [];
  $("[href]").each((_, el) => void urls.push($(el).attr("href")!));
  $("[src]").each((_, el) => void urls.push($(el).attr("src")!));
  $("[action]").each((_, el) => void urls.push($(el).attr("action")!));
  $("[data-full]").each((_, el) => void urls.push($(el).attr("data-full")!));
  $("[srcset], [data-srcset]").each((_, el) => {
    const set = $(el).attr("srcset") ?? $(el).attr("data-srcset") ?? "";
    for (const part of set.split(",")) urls.push(part.trim().split(/\s+/)[0]!);
  });
  $('meta[property^="og:"][content^="http"], meta[name^="twitter:"][content^="http"]').each((_, el) => void urls.push($(el).attr("content")!));
  return urls.filter((u) => u && !u.startsWith("#"));
}

/** Signs in through the real login form; the agent keeps the cookies. */
export async function signIn(agent: TestAgent, email: string, password: string, mount = "/shop"): Promise<Response> {
  const page = await agent.get(`${mount}/admin/login`).expect(200);
  return agent.post(`${mount}/admin/login`).type("form").send({ _csrf: csrfFrom(page.text), email, password });
}

/** The Set-Cookie headers of a response, always as an array. */
export function setCookies(res: Response): string[] {
  const raw = res.headers["set-cookie"] as string | string[] | undefined;
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The Set-Cookie header for one cookie name, or undefined. */
export function cookieNamed(res: Response, name: string): string | undefined {
  return setCookies(res).find((c) => c.startsWith(`${name}=`));
}

/**
 * The name/value pairs a browser would post for a form as the page shows it:
 * text inputs and hidden inputs, checked checkboxes and radios, selected
 * options (the first one of a single select when none is marked), textareas.
 * File inputs and buttons are left out.
 */
export function formFields(html: string, selector: string): { action: string; multipart: boolean; fields: [string, string][] } {
  const $ = load(html);
  const form = $(selector).first();
  if (form.length === 0) throw new Error(`no form ${selector} on the page`);
  const fields: [string, string][] = [];
  form.find("input, select, textarea").each((_, el) => {
    const $el = $(el);
    const name = $el.attr("name");
    if (!name || $el.is("[disabled]")) return;
    if (el.tagName === "select") {
      const options = $el.find("option");
      const selected = options.filter((_, o) => $(o).is("[selected]"));
      const chosen = selected.length > 0 || $el.is("[multiple]") ? selected : options.first();
      chosen.each((_, o) => void fields.push([name, $(o).attr("value") ?? $(o).text()]));
      return;
    }
    if (el.tagName === "textarea") {
      fields.push([name, $el.text().replace(/^\n/, "")]);
      return;
    }
    const type = ($el.attr("type") ?? "text").toLowerCase();
    if (["file", "submit", "button", "image", "reset"].includes(type)) return;
    if ((type === "checkbox" || type === "radio") && !$el.is("[checked]")) return;
    fields.push([name, $el.attr("value") ?? (type === "checkbox" || type === "radio" ? "on" : "")]);
  });
  return { action: form.attr("action") ?? "", multipart: form.attr("enctype") === "multipart/form-data", fields };
}

/** Submits a form of `html` the way a browser would, unchanged (see formFields). */
export function submitForm(agent: TestAgent, html: string, selector: string) {
  const { action, multipart, fields } = formFields(html, selector);
  if (multipart) {
    const req = agent.post(action);
    for (const [name, value] of fields) req.field(name, value);
    return req;
  }
  const body = new URLSearchParams(fields).toString();
  return agent.post(action).type("form").send(body);
}
