// The host console follows the show: every event of the session (claims,
// comments, questions, flash deals, featured items) and a poll every few
// seconds (paid revenue, viewers on other instances) re-read the console from
// the server and swap its regions, leaving alone the one the host is typing in.
// Without this file every button is a plain form and the page reloads.
(() => {
  const root = document.querySelector("[data-console]");
  if (!root) return;
  const intl = document.documentElement.lang === "fa" ? "fa-IR" : "en-US";
  const numberFmt = new Intl.NumberFormat(intl);
  const pad = (n) => new Intl.NumberFormat(intl, { minimumIntegerDigits: 2, useGrouping: false }).format(n);

  let inFlight = null;
  let again = false;
  async function refresh() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = fetch(location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then((html) => {
        const next = new DOMParser().parseFromString(html, "text/html");
        const fresh = next.querySelector("[data-console]");
        if (!fresh) return;
        // The status changed (live → ended): the whole console is different.
        if (fresh.querySelector(".console__status .live-badge")?.className !== root.querySelector(".console__status .live-badge")?.className) {
          location.reload();
          return;
        }
        for (const region of root.querySelectorAll("[data-region]")) {
          const replacement = fresh.querySelector(`[data-region="${region.dataset.region}"]`);
          if (!replacement || region.contains(document.activeElement)) continue;
          region.replaceWith(replacement);
        }
        const nextButton = fresh.querySelector("[data-next]");
        const button = root.querySelector("[data-next]");
        if (nextButton && button) button.innerHTML = nextButton.innerHTML;
        tick();
      })
      .catch(() => undefined)
      .finally(() => {
        inFlight = null;
        if (again) {
          again = false;
          void refresh();
        }
      });
  }

  function tick() {
    for (const el of root.querySelectorAll("[data-countdown][data-ends]")) {
      const s = Math.max(0, Math.floor((Date.parse(el.dataset.ends) - Date.now()) / 1000));
      el.textContent = `${numberFmt.format(Math.floor(s / 60))}:${pad(s % 60)}`;
    }
  }
  setInterval(tick, 1000);
  setInterval(refresh, 5000);

  if (!window.EventSource) return;
  const events = new EventSource(root.dataset.events);
  for (const type of ["featured", "stock", "claim", "comment", "question_new", "question", "question_hidden", "flash", "flash_end", "pin", "status", "lineup", "waitlist", "reset"]) {
    events.addEventListener(type, () => void refresh());
  }
  events.addEventListener("viewers", (e) => {
    try {
      const { now } = JSON.parse(e.data);
      const el = root.querySelector('[data-counter="viewersNow"]');
      if (el) el.textContent = numberFmt.format(now);
    } catch {
      // ignored: the next poll brings the count
    }
  });
})();
