import * as cheerio from "cheerio";
import type { AnyNode, Element } from "domhandler";

/**
 * Where text a person wrote would be laid out in the page's direction instead
 * of its own: text matching `marker` that no `<bdi>` or `dir="auto"` (or
 * `dir="ltr"`) isolates before the page's `dir="rtl"`; and form fields showing
 * such text without `dir="auto"` on the field itself (an ancestor's dir="auto"
 * looks at the ancestor's own text, not at the field's value).
 * Returns one line per place, with a CSS-ish path, for a readable failure.
 */
export function unisolatedText(html: string, marker: RegExp): string[] {
  const $ = cheerio.load(html);
  const problems: string[] = [];
  const describe = (el: Element) => {
    const parts: string[] = [];
    for (let e: Element | null = el; e && e.type === "tag" && e.name !== "html"; e = e.parent as Element | null) {
      const cls = $(e).attr("class")?.split(/\s+/)[0];
      parts.unshift(`${e.name}${cls ? `.${cls}` : ""}`);
    }
    return parts.slice(-4).join(" > ");
  };
  const isolated = (start: Element): boolean => {
    for (let e: Element | null = start; e && e.type === "tag"; e = e.parent as Element | null) {
      if (e.name === "bdi") return true;
      const dir = $(e).attr("dir");
      if (dir === "auto" || dir === "ltr") return true;
      if (dir === "rtl" || e.name === "html") return false;
    }
    return false;
  };
  const visit = (node: AnyNode) => {
    // Text inside Unicode isolates (FSI … PDI, from translateForPage) is isolated already.
    if (node.type === "text" && marker.test(node.data.replace(/\u2068[^\u2069]*\u2069/g, ""))) {
      const parent = node.parent as Element | null;
      if (!parent || ["script", "style", "title", "textarea", "option"].includes(parent.name)) return;
      if (!isolated(parent)) problems.push(`${describe(parent)}: "${node.data.trim().slice(0, 60)}"`);
    }
    if ("children" in node) for (const child of node.children) visit(child);
  };
  visit($("body")[0]!);
  $("input, textarea").each((_, el) => {
    if (["hidden", "checkbox", "radio", "submit", "button", "file", "number", "range", "color"].includes($(el).attr("type") ?? "text")) return;
    const value = el.name === "textarea" ? $(el).text() : ($(el).attr("value") ?? "");
    if (marker.test(value) && !["auto", "ltr"].includes($(el).attr("dir") ?? "")) problems.push(`${describe(el)}#${$(el).attr("id") ?? $(el).attr("name")}: field without dir="auto"`);
  });
  $("option").each((_, el) => {
    if (!marker.test($(el).text())) return;
    const dir = $(el).attr("dir") ?? $(el).closest("select").attr("dir");
    if (!["auto", "ltr"].includes(dir ?? "")) problems.push(`${describe(el)}: option without dir="auto"`);
  });
  return problems;
}
