// Gallery and post pages. Progressive enhancement: without this file a tile
// is a link to the post's page and every product is in the numbered list.
//
// The CSP forbids inline style attributes, so hotspots carry their position
// in data-x/data-y (0..1 from the photo's left/top edge, as Instagram
// stores them) and are placed here through the CSSOM, which the CSP allows.
// The photo is never mirrored in right-to-left pages, so these are physical
// left/top, not logical inline-start.

function placeHotspots(root) {
  for (const spot of root.querySelectorAll(".hotspot[data-x][data-y]")) {
    const x = Number(spot.dataset.x);
    const y = Number(spot.dataset.y);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    spot.style.left = `${x * 100}%`;
    spot.style.top = `${y * 100}%`;
    spot.classList.add("hotspot--placed");
  }
}

// A tapped hotspot points at its product card: bring it into view and
// highlight it briefly instead of jumping the whole page.
function showCard(spot) {
  const article = spot.closest("[data-shoppable]");
  const id = spot.getAttribute("href").slice(1);
  const card = article ? article.querySelector(`[id="${CSS.escape(id)}"]`) : null;
  if (!card) return false;
  for (const other of article.querySelectorAll(".tag-card--active")) other.classList.remove("tag-card--active");
  card.classList.add("tag-card--active");
  card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  const link = card.querySelector("a");
  if (link) link.focus({ preventScroll: true });
  return true;
}

document.addEventListener("click", (event) => {
  const spot = event.target.closest(".hotspot");
  if (spot && showCard(spot)) event.preventDefault();
});

placeHotspots(document);

// Gallery tiles open the post in a dialog. Its image, hotspots and product
// cards are fetched when the shopper opens it (the tile's data-card URL), so
// a page of tiles stays small; without JavaScript, or when the fetch fails,
// the tile is a plain link to the post's page.
const dialog = document.getElementById("post-dialog");
const body = dialog ? dialog.querySelector("[data-dialog-body]") : null;
let opener = null;
const cards = new Map();

function fetchFragment(url) {
  return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" }).then((res) => {
    if (!res.ok) throw new Error(`${res.status}`);
    return res.text();
  });
}

function cardFor(link) {
  const url = link.dataset.card;
  if (!cards.has(url)) {
    const pending = fetchFragment(url);
    // A failed fetch is retried the next time, not remembered.
    pending.catch(() => cards.delete(url));
    cards.set(url, pending);
  }
  return cards.get(url);
}

function htmlToFragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

if (dialog && body && typeof dialog.showModal === "function") {
  // Start fetching as soon as a finger or pointer lands on a tile.
  document.addEventListener("pointerdown", (event) => {
    const link = event.target.closest("[data-card]");
    if (link) cardFor(link).catch(() => {});
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-card]");
    if (!link) return;
    // Let people open the post in a new tab or window as usual.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    cardFor(link).then(
      (html) => {
        link.removeAttribute("aria-busy");
        body.replaceChildren(htmlToFragment(html));
        placeHotspots(body);
        dialog.setAttribute("aria-label", link.textContent.trim().replace(/\s+/g, " "));
        opener = link;
        dialog.showModal();
        body.scrollTop = 0;
      },
      () => {
        link.removeAttribute("aria-busy");
        window.location.href = link.href;
      },
    );
  });
  // A click on the backdrop (outside the dialog box) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    body.replaceChildren();
    if (opener) opener.focus();
  });
}

// "More posts": without JavaScript a link to the next page; with it, the next
// page's tiles are appended to the grid, focus moves to the first new tile
// and a status line tells screen readers how many arrived.
const grid = document.querySelector("[data-tiles]");
const status = document.querySelector("[data-more-status]");
if (grid) {
  document.addEventListener("click", (event) => {
    const more = event.target.closest("[data-more]");
    if (!more || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (more.getAttribute("aria-busy") === "true") return;
    more.setAttribute("aria-busy", "true");
    fetchFragment(more.dataset.more).then(
      (html) => {
        const part = htmlToFragment(html);
        const tiles = [...part.querySelectorAll("li")];
        grid.append(...tiles);
        const box = more.closest("[data-more-box]");
        const next = part.querySelector("[data-more-box]");
        if (next) box.replaceWith(next);
        else box.remove();
        const loaded = part.querySelector("[data-loaded]");
        if (status && loaded) status.textContent = loaded.textContent;
        const first = tiles[0] && tiles[0].querySelector("a");
        if (first) first.focus();
      },
      () => {
        more.removeAttribute("aria-busy");
        if (status) status.textContent = status.dataset.failed || "";
      },
    );
  });
}
