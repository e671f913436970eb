import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import { registerHelpers } from "./register-helpers.js";

export type RenderCallback = (err: Error | null, html?: string) => void;

/**
 * A private Handlebars instance with layouts and partials for one storefront.
 * Private so our helpers never leak into a host app that also uses Handlebars.
 * Templates compile once and are cached for the life of the process.
 */
export function createViewEngine(viewsDir: string) {
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  registerPartials(hbs, path.join(viewsDir, "partials"));
  const cache = new Map<string, Handlebars.TemplateDelegate>();

  const compile = (file: string) => {
    let template = cache.get(file);
    if (!template) {
      template = hbs.compile(readFileSync(file, "utf8"), { strict: false, preventIndent: true });
      cache.set(file, template);
    }
    return template;
  };

  return function render(file: string, options: object, callback: RenderCallback) {
    try {
      const { layout = "main", ...data } = options as { layout?: string | false } & Record<string, unknown>;
      const body = compile(file)(data);
      if (layout === false) return callback(null, body);
      const layoutFile = path.join(viewsDir, "layouts", `${layout}.hbs`);
      callback(null, compile(layoutFile)({ ...data, body }));
    } catch (err) {
      callback(err as Error);
    }
  };
}

function registerPartials(hbs: typeof Handlebars, dir: string, prefix = "") {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) registerPartials(hbs, full, `${prefix}${entry.name}/`);
    else if (entry.name.endsWith(".hbs")) hbs.registerPartial(prefix + entry.name.slice(0, -4), readFileSync(full, "utf8"));
  }
}
