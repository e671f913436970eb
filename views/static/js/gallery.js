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

// Gallery tiles open the post in a dialog, from the <template> the server
// rendered next to the tile (same markup as the post page, no extra request).
const dialog = document.getElementById("post-dialog");
const body = dialog ? dialog.querySelector("[data-dialog-body]") : null;
let opener = null;

if (dialog && body && typeof dialog.showModal === "function") {
  for (const link of document.querySelectorAll("[data-post]")) {
    link.addEventListener("click", (event) => {
      // Let people open the post in a new tab or window as usual.
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const template = document.getElementById(`post-${link.dataset.post}`);
      if (!template) return;
      event.preventDefault();
      body.replaceChildren(template.content.cloneNode(true));
      placeHotspots(body);
      dialog.setAttribute("aria-label", link.textContent.trim().replace(/\s+/g, " "));
      opener = link;
      dialog.showModal();
      body.scrollTop = 0;
    });
  }
  // A click on the backdrop (outside the dialog box) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    body.replaceChildren();
    if (opener) opener.focus();
  });
}
