// Progressive enhancement of a running import's page: without JavaScript the
// page reloads itself (a <noscript> refresh); with it, it polls the import's
// progress and updates the numbers in place, and reloads once the import
// moves to another phase, so the server renders the report or the outcome.
(() => {
  const box = document.getElementById("progress");
  if (!box) return;
  const url = box.dataset.progressUrl;
  const initial = box.dataset.status;
  const lang = document.documentElement.lang || "en";
  const format = new Intl.NumberFormat(lang);
  const bar = document.getElementById("import-bar");
  for (const el of document.querySelectorAll(".js-only")) el.hidden = false;

  const show = (name, value) => {
    const el = box.querySelector(`[data-progress="${name}"]`);
    if (el) el.textContent = format.format(value);
  };

  const poll = async () => {
    try {
      const res = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (!res.ok) throw new Error(String(res.status));
      const { data } = await res.json();
      if (data.status !== initial) {
        window.location.reload();
        return;
      }
      const p = data.progress;
      show("rows", p.rowsRead);
      show("checked", p.productsChecked);
      show("total", p.productsTotal);
      show("written", p.productsWritten);
      show("undone", p.productsUndone);
      show("problems", p.problems);
      if (bar && p.total > 0) {
        bar.max = 100;
        bar.value = Math.min(100, Math.floor((p.done / p.total) * 100));
        bar.textContent = `${bar.value}%`;
      }
    } catch {
      // A failed poll (a restart, a flaky network) is tried again; the Refresh link still works.
    }
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1000);
})();
