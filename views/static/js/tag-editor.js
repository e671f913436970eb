// Admin tag editor (views/admin/posts-form.hbs). Progressive enhancement:
// without it every tag is a plain form with x/y boxes, and a new tag is
// added by typing a SKU or slug. With it:
//  - a click on the photo puts the "new tag" pin there and fills x/y;
//  - pins can be dragged, or focused and moved with the arrow keys (Shift
//    for 5 % steps); an existing tag is saved as soon as it stops moving;
//  - the product box searches the catalog as you type (an ARIA combobox).
// Positions are shares of the photo (0..1 from the left/top edge), placed
// through element.style, which the CSP allows (inline style attributes it
// does not). Photos are not mirrored in rtl, so left/top are physical.
document.documentElement.classList.add("js");

const editor = document.querySelector("[data-tag-editor]");
if (editor) setUpEditor(editor);

function setUpEditor(root) {
  const msg = root.dataset;
  const status = root.querySelector("[data-status]");
  const canvas = root.querySelector("[data-canvas]");
  const newForm = root.querySelector("[data-tag-new]");
  const numberFormat = new Intl.NumberFormat(document.documentElement.lang === "fa" ? "fa-IR" : "en-US");
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : ""));
  const pct = (v) => numberFormat.format(Math.round(v * 100));
  const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
  const say = (text) => {
    if (status) status.textContent = text;
  };

  if (canvas) setUpCanvas();
  if (newForm) setUpSearch(newForm);

  function setUpCanvas() {
    const image = canvas.querySelector("img");
    const newPin = canvas.querySelector("[data-pin-new]");
    const saveTimers = new Map();

    const place = (pin, x, y) => {
      pin.dataset.x = String(x);
      pin.dataset.y = String(y);
      pin.style.left = `${x * 100}%`;
      pin.style.top = `${y * 100}%`;
      if (pin === newPin) {
        pin.setAttribute("aria-label", fill(msg.msgNewPin, { x: pct(x), y: pct(y) }));
      } else {
        pin.setAttribute("aria-label", fill(msg.msgPin, { n: numberFormat.format(Number(pin.dataset.n)), title: pin.dataset.title, x: pct(x), y: pct(y) }));
      }
    };

    // Keep the form fields (what a submit sends) in step with the pin.
    const syncFields = (pin) => {
      const form = pin === newPin ? newForm : root.querySelector(`[data-tag-form="${CSS.escape(pin.dataset.pin)}"]`);
      if (!form) return;
      const x = form.querySelector('[data-field="x"]');
      const y = form.querySelector('[data-field="y"]');
      if (x) x.value = pin.dataset.x;
      if (y) y.value = pin.dataset.y;
    };

    const save = async (pin) => {
      const id = pin.dataset.pin;
      say(msg.msgSaving);
      try {
        const res = await fetch(`${msg.tagsUrl}/${encodeURIComponent(id)}`, {
          method: "POST",
          headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": msg.csrf },
          body: new URLSearchParams({ x: pin.dataset.x, y: pin.dataset.y }),
          credentials: "same-origin",
        });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
        say(fill(msg.msgSaved, { n: numberFormat.format(Number(pin.dataset.n)), x: pct(Number(pin.dataset.x)), y: pct(Number(pin.dataset.y)) }));
      } catch (err) {
        say(fill(msg.msgFailed, { message: err.message }));
      }
    };

    const saveSoon = (pin, delay) => {
      clearTimeout(saveTimers.get(pin));
      saveTimers.set(pin, setTimeout(() => save(pin), delay));
    };

    const moved = (pin, x, y, delay) => {
      place(pin, round(x), round(y));
      syncFields(pin);
      if (pin !== newPin) saveSoon(pin, delay);
    };

    for (const pin of canvas.querySelectorAll(".tag-pin")) {
      place(pin, Number(pin.dataset.x), Number(pin.dataset.y));
      pin.hidden = false;
    }
    // The new pin has no place until the admin clicks the photo (or reaches it
    // with Tab, which puts it in the middle): what the pin shows and what the
    // form sends are always the same position.
    const prompt = canvas.querySelector("[data-prompt]");
    const needPosition = root.querySelector("[data-need-position]");
    const fieldX = newForm?.querySelector('[data-field="x"]');
    const fieldY = newForm?.querySelector('[data-field="y"]');
    const isPlaced = () => fieldX?.value.trim() !== "" && fieldY?.value.trim() !== "" && Number.isFinite(Number(fieldX?.value)) && Number.isFinite(Number(fieldY?.value));
    const markPlaced = () => {
      newPin.classList.remove("tag-pin--unplaced", "tag-pin--idle");
      if (prompt) prompt.hidden = true;
      canvas.classList.remove("tag-canvas--attention");
      if (needPosition) needPosition.hidden = true;
    };
    if (isPlaced()) {
      place(newPin, round(Number(fieldX.value)), round(Number(fieldY.value)));
      markPlaced();
    } else {
      newPin.classList.add("tag-pin--unplaced");
      if (prompt) prompt.hidden = false;
    }

    const pointToShare = (event) => {
      const box = image.getBoundingClientRect();
      return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
    };

    canvas.addEventListener("click", (event) => {
      if (event.target.closest(".tag-pin")) return;
      const [x, y] = pointToShare(event);
      moved(newPin, x, y, 0);
      markPlaced();
      say(fill(msg.msgPlaced, { x: pct(round(x)), y: pct(round(y)) }));
      newForm?.querySelector("[data-product-search]")?.focus();
    });

    // Dragging with a mouse, pen or finger.
    let drag = null;
    canvas.addEventListener("pointerdown", (event) => {
      const pin = event.target.closest(".tag-pin");
      if (!pin || event.button !== 0) return;
      drag = { pin, id: event.pointerId, moved: false };
      pin.setPointerCapture(event.pointerId);
      pin.classList.add("tag-pin--dragging");
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      const [x, y] = pointToShare(event);
      drag.moved = true;
      place(drag.pin, round(x), round(y));
    });
    const endDrag = (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      const { pin } = drag;
      pin.classList.remove("tag-pin--dragging");
      if (drag.moved) {
        moved(pin, Number(pin.dataset.x), Number(pin.dataset.y), 0);
        if (pin === newPin) markPlaced();
      }
      drag = null;
    };
    canvas.addEventListener("pointerup", endDrag);
    canvas.addEventListener("pointercancel", endDrag);

    // Keyboard: arrows move 1 % (Shift: 5 %); the save waits until the keys stop.
    canvas.addEventListener("keydown", (event) => {
      const pin = event.target.closest(".tag-pin");
      if (!pin) return;
      const step = event.shiftKey ? 0.05 : 0.01;
      const delta = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
      if (!delta) return;
      event.preventDefault();
      moved(pin, Number(pin.dataset.x) + delta[0], Number(pin.dataset.y) + delta[1], 700);
      if (pin === newPin) markPlaced();
    });
    // Reaching the new pin by keyboard places it in the middle, and fills the form.
    newPin.addEventListener("focus", () => {
      if (isPlaced()) return;
      moved(newPin, Number(newPin.dataset.x), Number(newPin.dataset.y), 0);
      markPlaced();
      say(fill(msg.msgPlaced, { x: pct(Number(newPin.dataset.x)), y: pct(Number(newPin.dataset.y)) }));
    });

    // "Add tag" before the photo was clicked: nothing is sent; say what to do, and show where.
    newForm?.addEventListener("submit", (event) => {
      if (isPlaced()) return;
      event.preventDefault();
      if (needPosition) {
        needPosition.textContent = msg.msgNeedPosition;
        needPosition.hidden = false;
      }
      canvas.classList.add("tag-canvas--attention");
      canvas.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });

    // Clicking an existing pin (without dragging) shows its row.
    canvas.addEventListener("click", (event) => {
      const pin = event.target.closest("[data-pin]");
      if (!pin) return;
      const row = document.getElementById(`tag-row-${pin.dataset.pin}`);
      if (!row) return;
      for (const other of root.querySelectorAll(".tag-row--active")) other.classList.remove("tag-row--active");
      row.classList.add("tag-row--active");
      row.scrollIntoView({ block: "nearest", behavior: "smooth" });
    });
  }

  function setUpSearch(form) {
    const input = form.querySelector("[data-product-search]");
    const hiddenId = form.querySelector("[data-product-id]");
    const list = form.querySelector("[data-results]");
    const variantSelect = form.querySelector("[data-variant-select]");
    if (!input || !list || !hiddenId) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    let results = [];
    let active = -1;
    let timer = null;
    let request = 0;

    const close = () => {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };

    const highlight = (index) => {
      const options = list.querySelectorAll("[role=option]");
      options.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
      active = index;
      if (options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    };

    const choose = (product) => {
      hiddenId.value = product.id;
      input.value = product.title;
      if (variantSelect) {
        variantSelect.replaceChildren(new Option(msg.msgAnyVariant, ""));
        for (const v of product.variants) {
          const stock = v.availability === "in_stock" ? "" : ` · ${msg.msgSoldOut}`;
          variantSelect.append(new Option(`${v.label} (${v.sku}) · ${v.price}${stock}`, v.id));
        }
        variantSelect.disabled = product.variants.length === 0;
      }
      close();
      say(fill(msg.msgChosen, { title: product.title }));
    };

    const render = () => {
      list.replaceChildren();
      results.forEach((p, i) => {
        const li = document.createElement("li");
        li.id = `tag-product-option-${i}`;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "combo__option";
        const title = document.createElement("span");
        title.className = "combo__title";
        title.textContent = p.title;
        const meta = document.createElement("span");
        meta.className = "combo__meta";
        meta.textContent = [p.variants.map((v) => v.sku).slice(0, 3).join(", "), p.status === "draft" ? msg.msgDraft : ""].filter(Boolean).join(" · ");
        li.append(title, meta);
        // mousedown, not click: it runs before the input loses focus.
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(p);
        });
        list.append(li);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", String(results.length > 0));
      say(results.length === 1 ? msg.msgResultsOne : results.length ? fill(msg.msgResults, { count: numberFormat.format(results.length) }) : msg.msgNoResults);
    };

    const search = async () => {
      const q = input.value.trim();
      const mine = ++request;
      try {
        const res = await fetch(`${msg.searchUrl}?q=${encodeURIComponent(q)}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!res.ok || mine !== request) return;
        results = (await res.json()).data ?? [];
        active = -1;
        render();
      } catch {
        // Offline or signed out: the typed SKU or slug still works on submit.
      }
    };

    input.addEventListener("input", () => {
      hiddenId.value = "";
      // The old results no longer match what is typed: hide them until the new ones arrive.
      results = [];
      close();
      if (variantSelect) {
        variantSelect.replaceChildren(new Option(msg.msgAnyVariant, ""));
        variantSelect.disabled = true;
      }
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("focus", () => {
      if (!input.value.trim() && results.length === 0) search();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) {
          if (results.length) render();
          else search();
          event.preventDefault();
          return;
        }
        event.preventDefault();
        const n = results.length;
        if (n === 0) return;
        highlight(event.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(results[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));
  }
}
