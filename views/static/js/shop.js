// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");

// Variant picker: choosing an option loads that variant's page (price, stock
// and images are rendered by the server, the same numbers the feeds publish).
for (const form of document.querySelectorAll("form[data-autosubmit]")) {
  form.addEventListener("change", () => form.requestSubmit());
}

// Gallery thumbnails swap the main image instead of opening the file.
const main = document.querySelector(".gallery__main img");
for (const thumb of document.querySelectorAll(".gallery__thumb")) {
  thumb.addEventListener("click", (event) => {
    if (!main) return;
    event.preventDefault();
    main.src = thumb.dataset.full;
    main.srcset = thumb.dataset.srcset;
    main.alt = thumb.dataset.alt;
    for (const other of document.querySelectorAll(".gallery__thumb")) other.removeAttribute("aria-current");
    thumb.setAttribute("aria-current", "true");
  });
}
