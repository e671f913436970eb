// Bazaarche reviews widget, for pasting into any website:
//
//   <div id="shop-reviews"></div>
//   <script src="https://your-shop.example/embed/reviews.js" data-product="blue-mug"
//           data-target="#shop-reviews" data-lang="en" data-limit="5" defer></script>
//
// data-product: the product's slug (the end of its page address).
// data-target (optional): CSS selector of the container; without it the
//   widget is inserted right after the script tag.
// data-lang: en or fa. data-limit: 1 to 20 reviews.
//
// Built like the gallery widget (embed-gallery.js): a Shadow DOM so the host
// page's CSS and ours never meet, the stylesheet adopted through the CSSOM
// (or linked, in older browsers), only URLs on the shop's own origin used,
// and every text a shopper wrote set with textContent, never as HTML.
(() => {
  const script = document.currentScript || document.querySelector('script[src*="/embed/reviews.js"]:not([data-bz-done])');
  if (!script || script.dataset.bzDone) return;
  script.dataset.bzDone = "1";
  const base = new URL(script.src, document.baseURI).href.replace(/\/embed\/reviews\.js(?:[?#].*)?$/, "");
  const origin = new URL(base).origin;
  const opts = script.dataset;
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(opts.product || "")) return;

  let host = opts.target ? document.querySelector(opts.target) : null;
  if (!host) {
    host = document.createElement("div");
    script.after(host);
  }
  const shadow = host.shadowRoot || host.attachShadow({ mode: "open" });

  const params = new URLSearchParams({ product: opts.product });
  if (opts.lang === "en" || opts.lang === "fa") params.set("lang", opts.lang);
  if (/^\d{1,2}$/.test(opts.limit || "")) params.set("limit", opts.limit);

  const ours = (url) => {
    try {
      return new URL(url).origin === origin ? url : null;
    } catch {
      return null;
    }
  };
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };
  const stars = (value, label) => {
    const node = el("span", "stars", "★".repeat(Math.round(value)) + "☆".repeat(5 - Math.round(value)));
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", label);
    return node;
  };

  async function applyStyles() {
    if ("adoptedStyleSheets" in shadow && "replaceSync" in CSSStyleSheet.prototype) {
      const css = await fetch(`${base}/embed/reviews.css`, { credentials: "omit" }).then((r) => r.text());
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      const link = el("link");
      link.rel = "stylesheet";
      link.href = `${base}/embed/reviews.css`;
      shadow.append(link);
    }
  }

  function review(r, labels) {
    const li = el("li", "review");
    li.lang = r.locale;
    const head = el("p");
    head.append(stars(r.rating, r.starsLabel));
    if (r.title) head.append(" ", el("strong", "", r.title));
    li.append(head, el("p", "", r.body));
    const photos = r.photos.filter((p) => ours(p.url));
    if (photos.length) {
      const row = el("div", "photos");
      for (const p of photos) {
        const img = el("img");
        img.src = p.url;
        img.width = 64;
        img.height = 64;
        img.alt = "";
        img.loading = "lazy";
        row.append(img);
      }
      li.append(row);
    }
    const by = el("p", "muted", r.displayName);
    if (r.verifiedBuyer) by.append(el("span", "badge", labels.verified));
    if (r.incentivized) by.append(el("span", "badge badge--muted", labels.incentivized));
    li.append(by);
    if (r.reply) {
      const reply = el("div", "reply");
      reply.append(el("p", "muted", labels.reply), el("p", "", r.reply.body));
      li.append(reply);
    }
    return li;
  }

  function render(data) {
    const box = el("section", "box");
    box.dir = data.dir;
    box.lang = data.lang;
    box.append(el("h2", "", `${data.labels.title} · ${data.product.title}`));
    if (data.summary.count === 0) {
      box.append(el("p", "muted", data.labels.none));
    } else {
      const summary = el("div", "summary");
      summary.append(el("span", "avg", data.labels.average), stars(data.summary.average, data.labels.summaryStars), el("span", "muted", data.labels.summary));
      const bars = el("ul", "bars");
      bars.setAttribute("aria-label", data.labels.histogram);
      data.summary.histogram.forEach((row, i) => {
        const li = el("li", "bar");
        const track = el("span", "track");
        const fill = el("span", "fill");
        // The CSSOM is allowed where inline style attributes are not.
        fill.style.width = `${Math.max(0, Math.min(100, Number(row.percent) || 0))}%`;
        track.append(fill);
        li.append(el("span", "", data.labels.rows[i].stars), track, el("span", "muted", data.labels.rows[i].count));
        bars.append(li);
      });
      const list = el("ul", "reviews");
      for (const r of data.reviews) list.append(review(r, data.labels));
      box.append(summary, bars, list);
    }
    const url = ours(data.product.url);
    if (url) {
      const more = el("a", "", data.labels.all);
      more.href = url;
      const p = el("p");
      p.append(more);
      box.append(p);
    }
    shadow.replaceChildren(box);
  }

  Promise.all([applyStyles(), fetch(`${base}/embed/reviews.json?${params}`, { credentials: "omit" }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))])
    .then(([, body]) => render(body.data))
    .catch(() => {
      // No widget is better than a broken one: leave the host page as it was.
      if (!opts.target) host.remove();
    });
})();
