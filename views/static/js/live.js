// The live viewer page, progressively enhanced: without this file the page
// shows the show as it was when loaded (refresh to update) and every form
// posts normally. With it, the page follows the host through Server-Sent
// Events (/live/:code/events), claims without leaving the page, and counts
// down holds and flash deals.
(() => {
  const root = document.querySelector("[data-live]");
  const i18n = JSON.parse(document.getElementById("live-i18n")?.textContent || "{}");
  const locale = root?.dataset.locale || document.documentElement.lang || "en";
  const intl = locale === "fa" ? "fa-IR" : "en-US";
  // A page for everyone (first visit, maybe from a CDN) carries no token: shop.js fetches this browser's.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = async () => csrfMeta?.content || (window.bazaarcheCsrfToken ? await window.bazaarcheCsrfToken().catch(() => "") : "");
  // Nor a viewer id for this browser: before its first claim, /you makes one
  // (a cookie), once, so every claim from this page is the same viewer's. It
  // goes after the token: a request without the CSRF cookie would make the
  // browser a second one, and whichever arrived last would void the token.
  const firstVisit = !!csrfMeta?.dataset.session && !csrfMeta.content;
  let viewerAsked = null;
  const viewerReady = () => {
    if (!firstVisit || !root?.dataset.you) return Promise.resolve();
    viewerAsked ??= csrf()
      .then(() => fetch(root.dataset.you, { headers: { Accept: "application/json" }, credentials: "same-origin" }))
      .then((r) => {
        if (!r.ok) throw new Error(String(r.status));
      })
      .catch(() => {
        viewerAsked = null;
      });
    return viewerAsked;
  };
  const numberFmt = new Intl.NumberFormat(intl);
  const moneyFmts = new Map();

  const money = (minor, currency) => {
    let fmt = moneyFmts.get(currency);
    if (!fmt) {
      fmt = new Intl.NumberFormat(intl, { style: "currency", currency });
      moneyFmts.set(currency, fmt);
    }
    return fmt.format(minor / 10 ** (fmt.resolvedOptions().maximumFractionDigits ?? 2));
  };
  const fill = (template, vars) => (template || "").replace(/\{(\w+)\}/g, (_, k) => (typeof vars[k] === "number" ? numberFmt.format(vars[k]) : String(vars[k] ?? "")));
  // Made once: the countdowns format every second, and a formatter costs far more than a format.
  const digitFmts = [1, 2].map((minimumIntegerDigits) => new Intl.NumberFormat(intl, { minimumIntegerDigits, useGrouping: false }));
  const digits = (n, pad) => digitFmts[pad ? 1 : 0].format(n);
  const clock = (seconds) => {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h > 0 ? `${digits(h)}:${digits(m, true)}:${digits(s % 60, true)}` : `${digits(m)}:${digits(s % 60, true)}`;
  };

  // ───────── countdowns: holds, flash deals, the start of the show ─────────
  const tick = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-countdown][data-ends]")) {
      const left = (Date.parse(el.dataset.ends) - now) / 1000;
      el.textContent = clock(left);
      if (left <= 0 && !el.dataset.done) {
        el.dataset.done = "1";
        refreshYou();
      }
    }
    for (const el of document.querySelectorAll("[data-flash-timer][data-ends]")) {
      const left = (Date.parse(el.dataset.ends) - now) / 1000;
      el.textContent = clock(left);
      // The price goes back when the countdown ends, whether or not the end event arrives.
      if (left <= 0) endFlash(el.closest("[data-item]"));
    }
    const starts = document.querySelector("[data-starts]");
    if (starts) {
      const left = (Date.parse(starts.dataset.starts) - now) / 1000;
      if (left <= 0) starts.textContent = i18n.startsNow;
    }
  };
  setInterval(tick, 1000);

  if (!root) return;
  const code = root.dataset.code;
  const itemEl = (id) => root.querySelector(`article[data-item="${CSS.escape(id)}"]`);
  const announce = (text) => {
    const region = root.querySelector("[data-announce]");
    if (region) region.textContent = text;
  };

  // ───────── your claims: re-rendered by the server ─────────
  let refreshing = null;
  async function refreshYou() {
    const box = root.querySelector("[data-you-box]");
    if (!box) return;
    if (refreshing) return refreshing;
    refreshing = fetch(root.dataset.you, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then((html) => {
        box.innerHTML = html;
        box.hidden = !box.querySelector("[data-claim-id], [data-waiting], .alert");
        tick();
      })
      .catch(() => undefined)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  // ───────── showing an item on the stage ─────────
  function show(itemId, featured) {
    const target = itemEl(itemId);
    if (!target) return false;
    for (const a of root.querySelectorAll("article[data-item]")) {
      a.hidden = a !== target;
      if (featured) {
        a.classList.toggle("is-featured", a === target);
        const badge = a.querySelector("[data-now-badge]");
        if (badge) badge.hidden = a !== target;
      }
    }
    if (featured) {
      for (const li of root.querySelectorAll("[data-lineup]")) li.classList.toggle("is-featured", li.dataset.lineup === itemId);
      const title = target.querySelector(".live-item__title")?.textContent || "";
      announce(fill(i18n.nowShowing, { title }));
    }
    return true;
  }
  for (const link of root.querySelectorAll("[data-show-item]")) {
    link.addEventListener("click", (e) => {
      if (show(link.dataset.showItem, false)) {
        e.preventDefault();
        document.getElementById("stage")?.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    });
  }

  function setStock(data) {
    const article = itemEl(data.itemId);
    const leftText = data.left > 0 ? fill(i18n.left, { count: data.left }) : i18n.soldOut;
    const lineup = root.querySelector(`[data-lineup="${CSS.escape(data.itemId)}"] [data-lineup-left]`);
    if (lineup) lineup.textContent = leftText;
    if (!article) return;
    const left = article.querySelector("[data-left]");
    if (left) {
      left.textContent = leftText;
      left.classList.toggle("live-left--out", data.left === 0);
    }
    for (const v of data.variants || []) {
      const label = article.querySelector(`[data-variant="${CSS.escape(v.id)}"]`);
      if (!label) continue;
      label.classList.toggle("live-variant--out", v.left === 0);
      const text = label.querySelector("[data-variant-left]");
      if (text) text.textContent = v.left > 0 ? fill(i18n.left, { count: v.left }) : i18n.soldOut;
    }
    if (data.flash) setFlash(data.flash);
  }

  function setFlash(deal) {
    const article = itemEl(deal.itemId);
    const box = article?.querySelector("[data-flash]");
    if (!box) return;
    const currency = article.dataset.currency || root.dataset.currency || "USD";
    box.hidden = Date.parse(deal.endsAt) <= Date.now();
    box.dataset.deal = deal.dealId;
    box.querySelector("[data-flash-price]").textContent = money(deal.priceMinor, currency);
    const timer = box.querySelector("[data-flash-timer]");
    timer.dataset.ends = deal.endsAt;
    box.querySelector("[data-flash-left]").textContent = fill(i18n.flashLeft, { count: deal.left });
    tick();
  }
  function endFlash(article) {
    const box = article?.querySelector("[data-flash]");
    if (!box || box.hidden) return;
    box.hidden = true;
    delete box.querySelector("[data-flash-timer]")?.dataset.ends;
  }

  // ───────── claiming without leaving the page ─────────
  for (const form of root.querySelectorAll("form[data-claim]")) {
    for (const type of ["pointerdown", "focusin"]) form.addEventListener(type, () => viewerReady());
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const msg = form.querySelector("[data-claim-msg]");
      const button = form.querySelector("[data-claim-button]");
      button.disabled = true;
      try {
        await viewerReady();
        const token = await csrf();
        const body = Object.fromEntries(new FormData(form));
        if (!body._csrf) body._csrf = token;
        const res = await fetch(form.action, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token },
          credentials: "same-origin",
          body: JSON.stringify(body),
        });
        const json = await res.json().catch(() => ({}));
        if (res.status === 201) msg.textContent = i18n.held;
        else msg.textContent = json.error?.message || i18n.error;
        msg.classList.toggle("live-claim__msg--ok", res.status === 201);
        await refreshYou();
        if (res.status === 201) root.querySelector("[data-you-box]")?.scrollIntoView({ behavior: "smooth", block: "nearest" });
      } catch {
        msg.textContent = i18n.error;
      } finally {
        button.disabled = false;
      }
    });
  }

  // ───────── the replay: chapters seek the video on the page ─────────
  const video = root.querySelector("video[data-replay]");
  if (video) {
    for (const a of root.querySelectorAll("[data-seek]")) {
      a.addEventListener("click", (e) => {
        e.preventDefault();
        video.currentTime = Number(a.dataset.seek);
        void video.play().catch(() => undefined);
        video.scrollIntoView({ behavior: "smooth", block: "center" });
      });
    }
  }

  // ───────── following the show ─────────
  if (root.dataset.status === "ended" || !window.EventSource) return;
  // A change of the page's shape (show starts or ends, lineup edited) reloads it; spread over a few
  // seconds, so a thousand phones do not ask for the page in the same instant.
  const reloadSoon = (max = 8000) => setTimeout(() => location.reload(), 300 + Math.random() * max);
  const url = new URL(root.dataset.events, location.href);
  url.searchParams.set("after", root.dataset.seq || "0");
  const events = new EventSource(url);
  const on = (type, fn) =>
    events.addEventListener(type, (e) => {
      try {
        fn(JSON.parse(e.data || "{}"));
      } catch {
        // A malformed event is skipped; the next one carries the full state it needs.
      }
    });
  on("featured", (d) => {
    if (!show(d.itemId, true)) reloadSoon(2000);
  });
  on("stock", setStock);
  on("flash", setFlash);
  on("flash_end", (d) => endFlash(itemEl(d.itemId)));
  on("pin", (d) => {
    const pin = root.querySelector("#live-pin");
    if (!pin) return;
    pin.querySelector("[data-pin]").textContent = d.message;
    pin.hidden = !d.message;
  });
  on("question", (d) => {
    const list = root.querySelector("[data-questions]");
    if (!list) return;
    let li = list.querySelector(`[data-question="${CSS.escape(d.id)}"]`);
    if (!li) {
      li = document.createElement("li");
      li.dataset.question = d.id;
      li.innerHTML = '<p class="live-questions__q" dir="auto"></p><p class="live-questions__a" dir="auto"></p>';
      list.prepend(li);
    }
    li.querySelector(".live-questions__q").textContent = d.name ? `${d.name}: ${d.text}` : d.text;
    li.querySelector(".live-questions__a").textContent = d.answer;
    const empty = root.querySelector("[data-questions-empty]");
    if (empty) empty.hidden = true;
  });
  on("question_hidden", (d) => root.querySelector(`[data-question="${CSS.escape(d.id)}"]`)?.remove());
  on("waitlist", (d) => {
    if (root.querySelector(`[data-waiting="${CSS.escape(d.itemId)}"]`)) refreshYou();
  });
  on("status", () => reloadSoon());
  on("lineup", () => reloadSoon());
  on("session", () => reloadSoon());
  on("reset", () => reloadSoon(3000));
})();
