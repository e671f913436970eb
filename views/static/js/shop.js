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

// Pages that may come from a shared cache (a CDN) carry no CSRF token, so
// that one copy serves everyone. The token for this browser is fetched when
// the shopper starts using a form (GET session.json also sets the cookie it
// is bound to), and filled in before the form is sent.
const csrfMeta = document.querySelector('meta[name="csrf-token"][data-session]');
if (csrfMeta && !csrfMeta.content) {
  let asked = null;
  const token = () => {
    asked ??= fetch(csrfMeta.dataset.session, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`${res.status}`))))
      .then((body) => {
        csrfMeta.content = body.csrfToken;
        for (const input of document.querySelectorAll('input[name="_csrf"]')) if (!input.value) input.value = body.csrfToken;
        return body.csrfToken;
      });
    asked.catch(() => {
      asked = null;
    });
    return asked;
  };
  const needsToken = (target) => {
    const form = target instanceof Element ? target.closest("form") : null;
    const input = form && !form.dataset.csrfAsked && form.querySelector('input[name="_csrf"]');
    return input && !input.value ? form : null;
  };
  for (const type of ["pointerdown", "focusin"]) {
    document.addEventListener(type, (event) => {
      if (needsToken(event.target)) token().catch(() => {});
    });
  }
  // Scripts that send a form themselves (live.js claims) ask through this.
  window.bazaarcheCsrfToken = token;
  document.addEventListener("submit", (event) => {
    // A script already took this form over (and asks for the token itself).
    if (event.defaultPrevented) return;
    const form = needsToken(event.target);
    if (!form) return;
    event.preventDefault();
    const submitter = event.submitter;
    form.dataset.csrfAsked = "1";
    // Without a token the server refuses the form and says so; sending it anyway beats a dead button.
    token().finally(() => (submitter ? form.requestSubmit(submitter) : form.requestSubmit()));
  });
}
