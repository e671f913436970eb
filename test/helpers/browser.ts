import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { readFileSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { listen } from "../../src/http/lifecycle.js";
import { seedDemoShop } from "../../src/seed/demo.js";
import type { StorefrontOptions } from "../../src/storefront.js";
import { buildTestApp, type TestApp } from "./app.js";
import { createAdmin } from "./factories.js";

export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../test-results/screenshots");
const require = createRequire(import.meta.url);

/** Debian's Chromium (`apt-get install chromium`), or CHROMIUM_PATH. Never a downloaded browser. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error("Browser tests need Chromium: run `apt-get install -y chromium` (as .ci/run does) or set CHROMIUM_PATH to a Chromium/Chrome binary.");
  }
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // The machines have no network beyond package registries: keep Chromium
    // from phoning home (each refused connection is a slow error otherwise).
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** Serves a test app on a loopback port for the browser. */
export async function serve(t: TestApp) {
  const { server, ready, shutdown } = listen(t.app, 0, { graceMs: 500 });
  await ready;
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, shutdown };
}

export interface PageProblems {
  console: string[];
  csp: string[];
}

/** Collects console errors, uncaught exceptions and CSP violations of a page. */
export async function watchProblems(page: Page): Promise<PageProblems> {
  const problems: PageProblems = { console: [], csp: [] };
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.console.push(msg.text());
  });
  page.on("pageerror", (err) => problems.console.push(`uncaught: ${err.message}`));
  await page.exposeFunction("__reportCsp", (text: string) => problems.csp.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCsp: (t: string) => void }).__reportCsp(`${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  return problems;
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.waitForLoadState("load");
  try {
    await page.screenshot({ path: file, fullPage: true });
  } catch (err) {
    // Chromium refused a capture once on a loaded CI machine right after a
    // navigation ("Protocol error (Page.captureScreenshot): Unable to capture
    // screenshot"): the picture is for people to look at, so after the next
    // frame it gets one more try; any other error fails the test.
    if (!String(err).includes("Unable to capture screenshot")) throw err;
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))));
    await page.screenshot({ path: file, fullPage: true });
  }
  return file;
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core (WCAG 2 A/AA rules, including colour contrast) in the page.
 * Injected with evaluate(), which the page's CSP does not govern.
 */
export async function accessibilityViolations(page: Page) {
  const run = async () => {
    await page.evaluate(axeSource);
    return (await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<unknown> } }).axe;
      return axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    })) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  };
  let result;
  try {
    result = await run();
  } catch (err) {
    // A page that reloads itself (the CSV import's progress page, once its job
    // moves on) can do so in the middle of the check, taking axe with it (seen
    // once in .ci/run). The page it lands on is checked instead; any other
    // error fails the test.
    if (!/Execution context was destroyed|navigation/i.test(String(err))) throw err;
    await page.waitForLoadState("load");
    result = await run();
  }
  return result.violations.map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

/** Signs in through the real login form in the browser. */
export async function signInInBrowser(page: Page, origin: string, email: string, password: string, lang: "en" | "fa" = "en") {
  await page.goto(`${origin}/shop/admin/login?lang=${lang}`);
  await page.locator("#email").fill(email);
  await page.locator("#password").fill(password);
  await Promise.all([page.waitForURL(/\/shop\/admin$/), page.locator('button[type="submit"]').click()]);
}

export interface BrowserShopOptions {
  /** Storefront options, as for buildTestApp; a function when they depend on the file's own set-up (an SMTP server started in an earlier beforeAll). */
  app?: Partial<StorefrontOptions> | (() => Partial<StorefrontOptions>);
  /** Fill the shop with the demo catalog first (it re-encodes two dozen photos: slow on a busy machine). */
  demo?: boolean;
  /** What else the file needs in the database, before the server starts. */
  seed?: (t: TestApp) => Promise<void>;
}

export interface BrowserShop {
  /** The storefront under test (database, deps), mounted at /shop. */
  readonly t: TestApp;
  readonly browser: Browser;
  /** http://127.0.0.1:<port> of the running server. */
  readonly origin: string;
  /** An admin account to sign in with. */
  readonly admin: { email: string; password: string };
  /** A fresh browser context and page with console, error and CSP watching; closed after the test, pass or fail. */
  open(options?: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }>;
  /** The same, signed in to the admin through the login form. */
  openAdmin(lang: "en" | "fa", options?: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }>;
}

/**
 * The set-up every browser test file shares, as one fixture: a test app
 * (optionally with the demo shop and the file's own data), served on a
 * loopback port, an admin account, and Debian's Chromium. Call it at the top
 * level of a test file; it registers its own beforeAll/afterEach/afterAll.
 */
export function useBrowserShop(options: BrowserShopOptions = {}): BrowserShop {
  let state: { t: TestApp; browser: Browser; origin: string; admin: { email: string; password: string }; shutdown: () => Promise<void> } | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    const t = await buildTestApp(typeof options.app === "function" ? options.app() : options.app);
    if (options.demo) await seedDemoShop(t.deps);
    const admin = await createAdmin(t.deps);
    await options.seed?.(t);
    const { origin, shutdown } = await serve(t);
    state = { t, origin, admin, shutdown, browser: await launchBrowser() };
  }, options.demo ? 240_000 : 180_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await state?.browser.close();
    await state?.shutdown();
    await state?.t.close();
  });
  const get = () => {
    if (!state) throw new Error("useBrowserShop: the shop is only there inside tests (after its beforeAll)");
    return state;
  };
  const open = async (contextOptions: BrowserContextOptions = { viewport: { width: 1280, height: 900 } }) => {
    const context = await get().browser.newContext(contextOptions);
    contexts.push(context);
    const page = await context.newPage();
    return { context, page, problems: await watchProblems(page) };
  };
  return {
    get t() {
      return get().t;
    },
    get browser() {
      return get().browser;
    },
    get origin() {
      return get().origin;
    },
    get admin() {
      return get().admin;
    },
    open,
    async openAdmin(lang, contextOptions) {
      const opened = await open(contextOptions);
      await signInInBrowser(opened.page, get().origin, get().admin.email, get().admin.password, lang);
      return opened;
    },
  };
}
