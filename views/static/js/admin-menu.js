// The admin menu on phones: without JavaScript the "Menu" link jumps to the
// menu, which CSS shows while it is the :target. With it, the link becomes a
// disclosure button (aria-expanded) that opens and closes the menu in place.
const toggle = document.querySelector("[data-menu-toggle]");
const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
if (toggle && menu) {
  toggle.setAttribute("role", "button");
  toggle.setAttribute("aria-expanded", "false");
  const set = (open) => {
    menu.classList.toggle("admin-nav--open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", (event) => {
    event.preventDefault();
    set(toggle.getAttribute("aria-expanded") !== "true");
  });
  toggle.addEventListener("keydown", (event) => {
    // A button opens with Space as well as Enter.
    if (event.key === " ") {
      event.preventDefault();
      toggle.click();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      set(false);
      toggle.focus();
    }
  });
}
