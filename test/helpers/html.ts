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
