import type * as Htmlparser2 from "htmlparser2";
import { lazyModule } from "../../lazy.js";

const htmlparser2 = lazyModule<typeof Htmlparser2>("htmlparser2");

/** Elements that start a new paragraph; their text is kept, separated by a blank line. */
const BLOCKS = new Set(["p", "div", "section", "article", "header", "footer", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "dl", "figure", "hr"]);
/** Elements whose content is not text a shopper should read. */
const SKIPPED = new Set(["script", "style", "template", "noscript", "iframe", "object", "svg", "head", "title"]);

/**
 * Shopify's Body (HTML) → the plain text the catalog stores (feeds reject
 * HTML in descriptions). Paragraphs and headings become blocks separated by
 * a blank line, <br> and list items a new line ("- " before each item),
 * entities are decoded, and runs of spaces inside text collapse as a
 * browser would show them.
 */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let skipDepth = 0;
  let preDepth = 0;
  const breakLine = (blank: boolean) => out.push(blank ? "\u0000P" : "\u0000L");
  const parser = new (htmlparser2().Parser)(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) skipDepth++;
        if (name === "pre") preDepth++;
        if (name === "br") breakLine(false);
        else if (name === "li") {
          breakLine(false);
          out.push("- ");
        } else if (name === "td" || name === "th") out.push(" ");
        else if (BLOCKS.has(name)) breakLine(true);
      },
      ontext(text) {
        if (skipDepth > 0) return;
        out.push(preDepth > 0 ? text : text.replace(/\s+/g, " "));
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) skipDepth = Math.max(0, skipDepth - 1);
        if (name === "pre") preDepth = Math.max(0, preDepth - 1);
        if (BLOCKS.has(name)) breakLine(true);
        else if (name === "li") breakLine(false);
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();

  // Join, then resolve the break markers: the strongest break between two
  // pieces of text wins, and no break survives at the start or the end.
  const joined = out.join("");
  return joined
    .split(/((?:\s*\u0000[PL]\s*)+)/)
    .map((part, i) => {
      if (i % 2 === 0) return part;
      return part.includes("\u0000P") ? "\n\n" : "\n";
    })
    .join("")
    .split("\n")
    .map((line) => line.replace(/[ \t]+$/g, "").replace(/^ +/, ""))
    .join("\n")
    .replace(/\u00a0/g, " ")
    .trim();
}
