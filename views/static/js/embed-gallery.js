// Bazaarche shoppable gallery, for pasting into any website:
//
//   <div id="shop-gallery"></div>
//   <script src="https://your-shop.example/embed/gallery.js" data-target="#shop-gallery"
//           data-lang="en" data-limit="12" data-available="1" defer></script>
//
// data-target (optional): CSS selector of the container; without it the
//   gallery is inserted right after the script tag.
// data-lang: en or fa. data-limit: 1 to 60 posts. data-available="1": only
//   posts with something in stock.
//
// The gallery lives in a Shadow DOM: the host page's CSS cannot reach it and
// ours cannot leak out. Under the host's Content-Security-Policy it needs the
// shop's origin in script-src, connect-src and img-src; it uses no eval, no
// inline scripts, and its stylesheet is adopted through the CSSOM (or, in
// older browsers, linked from the shop). All text is set with textContent.
(() => {
  const script = document.currentScript || document.querySelector('script[src*="/embed/gallery.js"]:not([data-bz-done])');
  if (!script || script.dataset.bzDone) return;
  script.dataset.bzDone = "1";
  const base = new URL(script.src, document.baseURI).href.replace(/\/embed\/gallery\.js(?:[?#].*)?$/, "");
  const origin = new URL(base).origin;
  const opts = script.dataset;

  let host = opts.target ? document.querySelector(opts.target) : null;
  if (!host) {
    host = document.createElement("div");
    script.after(host);
  }
  const shadow = host.shadowRoot || host.attachShadow({ mode: "open" });

  const params = new URLSearchParams();
  if (opts.lang === "en" || opts.lang === "fa") params.set("lang", opts.lang);
  if (/^\d{1,2}$/.test(opts.limit || "")) params.set("limit", opts.limit);
  if (opts.available === "1") params.set("available", "1");

  // Only URLs on the shop's own origin are put into the page.
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

  async function applyStyles() {
    if ("adoptedStyleSheets" in shadow && "replaceSync" in CSSStyleSheet.prototype) {
      const css = await fetch(`${base}/embed/gallery.css`, { credentials: "omit" }).then((r) => r.text());
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      const link = el("link");
      link.rel = "stylesheet";
      link.href = `${base}/embed/gallery.css`;
      shadow.append(link);
    }
  }

  function picture(image, className, sizes) {
    const img = el("img", className);
    if (!image || !ours(image.src)) return img;
    img.src = image.src;
    img.srcset = image.srcset.split(", ").filter((part) => ours(part.split(" ")[0])).join(", ");
    img.sizes = sizes;
    img.width = image.width;
    img.height = image.height;
    img.alt = image.alt || "";
    img.loading = "lazy";
    img.decoding = "async";
    return img;
  }

  function tagCard(tag) {
    const li = el("li", `bz-card${tag.soldOut ? " bz-card--soldout" : ""}`);
    li.dataset.tag = tag.id;
    const link = el("a", "bz-card__link");
    link.href = ours(tag.url) || base;
    link.target = "_top";
    link.append(el("span", "bz-card__num", tag.time ? "▶" : tag.numberLabel));
    link.lastChild.setAttribute("aria-hidden", "true");
    const thumb = picture(tag.image, "bz-card__img", "56px");
    thumb.alt = "";
    link.append(thumb);
    const body = el("span", "bz-card__body");
    body.append(el("span", "bz-card__title", tag.title));
    if (tag.variant) body.append(el("span", "bz-card__sub", tag.variant));
    if (tag.time) body.append(el("span", "bz-card__sub", tag.time));
    const price = el("span", "bz-card__price", tag.price);
    if (tag.compareAt) price.append(" ", el("s", "bz-card__was", tag.compareAt));
    body.append(price, el("span", `bz-card__stock${tag.soldOut ? " bz-card__stock--out" : ""}`, tag.stock));
    link.append(body);
    li.append(link);
    if (tag.alternative && ours(tag.alternative.url)) {
      const alt = el("a", "bz-card__alt", `${tag.alternative.label} · ${tag.alternative.price}`);
      alt.href = tag.alternative.url;
      alt.target = "_top";
      li.append(alt);
    }
    return li;
  }

  function postView(post, labels) {
    const article = el("article", "bz-post");
    const frame = el("div", "bz-post__frame");
    frame.append(picture(post.image, "bz-post__img", "(min-width: 700px) 50vw, 100vw"));
    for (const tag of post.tags) {
      if (tag.x === null || tag.y === null) continue;
      // A pointer shortcut to the numbered card, which carries the same link
      // for keyboards and screen readers; so it is left out of both.
      const spot = el("button", `bz-spot${tag.soldOut ? " bz-spot--soldout" : ""}`, tag.numberLabel);
      spot.type = "button";
      spot.tabIndex = -1;
      spot.setAttribute("aria-hidden", "true");
      spot.title = tag.hotspotLabel;
      // CSSOM, not a style attribute: allowed under a strict host CSP.
      spot.style.left = `${tag.x * 100}%`;
      spot.style.top = `${tag.y * 100}%`;
      spot.addEventListener("click", () => {
        const card = article.querySelector(`[data-tag="${CSS.escape(tag.id)}"]`);
        for (const other of article.querySelectorAll(".bz-card--active")) other.classList.remove("bz-card--active");
        if (card) {
          card.classList.add("bz-card--active");
          card.scrollIntoView({ block: "nearest", behavior: "smooth" });
          card.querySelector("a")?.focus({ preventScroll: true });
        }
      });
      frame.append(spot);
    }
    const info = el("div", "bz-post__info");
    info.append(el("p", "bz-post__platform", post.platformLabel));
    if (post.caption) {
      // Captions are written in whatever language the post was; let the text set its own direction.
      const caption = el("p", "bz-post__caption", post.caption);
      caption.dir = "auto";
      info.append(caption);
    }
    info.append(el("h3", "bz-post__heading", labels.inThisPost));
    if (post.tags.length) {
      const list = el("ol", "bz-cards");
      for (const tag of post.tags) list.append(tagCard(tag));
      info.append(list);
    } else {
      info.append(el("p", "bz-muted", labels.nothing));
    }
    if (post.permalink && post.viewLabel && /^https?:/.test(post.permalink)) {
      const source = el("a", "bz-post__source", post.viewLabel);
      source.href = post.permalink;
      source.rel = "noopener noreferrer";
      source.target = "_blank";
      info.append(source);
    }
    article.append(frame, info);
    return article;
  }

  function render(data) {
    const root = el("section", "bz");
    root.dir = data.dir === "rtl" ? "rtl" : "ltr";
    root.lang = data.lang === "fa" ? "fa" : "en";
    root.setAttribute("aria-label", data.labels.title);
    const head = el("div", "bz__head");
    const shopLink = el("a", "bz__shop", data.shop.name);
    shopLink.href = ours(data.shop.url) || base;
    shopLink.target = "_top";
    head.append(shopLink, el("span", "bz__title", data.labels.title));
    root.append(head);

    if (!data.posts.length) {
      root.append(el("p", "bz-muted", data.labels.empty));
      shadow.append(root);
      return;
    }
    const grid = el("ul", "bz-grid");
    const dialog = el("dialog", "bz-dialog");
    const close = el("button", "bz-dialog__close", "✕");
    close.type = "button";
    close.setAttribute("aria-label", data.labels.close);
    close.addEventListener("click", () => dialog.close());
    const dialogBody = el("div", "bz-dialog__body");
    dialog.append(close, dialogBody);
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog.close();
    });

    for (const post of data.posts) {
      const li = el("li", "bz-tile");
      const open = el("a", "bz-tile__link");
      open.href = ours(post.url) || base;
      open.dataset.post = post.id;
      const img = picture(post.image, "bz-tile__img", "(min-width: 700px) 25vw, 33vw");
      img.alt = "";
      open.append(img, el("span", "bz-hidden", post.openLabel));
      if (post.video) open.append(el("span", "bz-tile__kind", "▶"));
      if (post.shopLabel) open.append(el("span", "bz-tile__badge", post.shopLabel));
      open.addEventListener("click", (event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || typeof dialog.showModal !== "function") return;
        event.preventDefault();
        dialogBody.replaceChildren(postView(post, data.labels));
        dialog.setAttribute("aria-label", post.openLabel);
        dialog.showModal();
      });
      li.append(open);
      grid.append(li);
    }
    root.append(grid, dialog);
    shadow.append(root);
  }

  Promise.all([fetch(`${base}/embed/gallery.json?${params}`, { credentials: "omit" }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`)))), applyStyles()])
    .then(([data]) => render(data))
    .catch((err) => {
      // The host page keeps working; the console says why the gallery is missing.
      console.warn("Bazaarche gallery could not load:", err.message);
    });
})();
