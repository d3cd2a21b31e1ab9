// pinhole web app: small enhancements for pages that work without scripts (copying, confirming, picking sizes).
"use strict";

function copyField(id, button) {
  const field = document.getElementById(id);
  if (!field) return;
  const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, () => { field.select(); });
  } else {
    field.select();
    try { document.execCommand("copy"); done(); } catch (_) { /* the text stays selected for Ctrl+C */ }
  }
}

function transformUrl(base, width, format) {
  const params = new URLSearchParams();
  if (width) params.set("w", width);
  if (format) params.set("format", format);
  const query = params.toString();
  return query ? `${base}?${query}` : base;
}

function snippet(kind, url, alt) {
  const attr = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  switch (kind) {
    case "Markdown": return `![${alt.replace(/]/g, "")}](${url})`;
    case "HTML": return `<img src="${attr(url)}" alt="${attr(alt)}">`;
    case "BBCode": return `[img]${url}[/img]`;
    default: return url;
  }
}

function setUpPicker() {
  const picker = document.getElementById("picker");
  if (!picker) return;
  const size = document.getElementById("size");
  const format = document.getElementById("format");
  const preview = document.getElementById("preview");
  // With URL signing on, the server lists the signed query of every choice: strangers' copies must carry it.
  const signed = picker.dataset.signed ? JSON.parse(picker.dataset.signed) : null;
  const urlFor = (base) => {
    const query = signed && signed[`${size.value}|${format.value}`];
    return query ? base + query : transformUrl(base, size.value, format.value);
  };
  const update = () => {
    const url = urlFor(picker.dataset.base);
    document.querySelectorAll("input[data-kind]").forEach((input) => {
      input.value = snippet(input.dataset.kind, url, picker.dataset.alt);
    });
    preview.src = urlFor(picker.dataset.preview);
  };
  size.addEventListener("change", update);
  format.addEventListener("change", update);
}

function setUpFocalPoint() {
  // The owner clicks the picture: the click's place, as fractions of the picture, becomes its focal point.
  const form = document.getElementById("focal-form");
  const preview = document.getElementById("preview");
  if (!form || !preview) return;
  preview.style.cursor = "crosshair";
  preview.addEventListener("click", (event) => {
    const box = preview.getBoundingClientRect();
    const clamp = (value) => Math.min(1, Math.max(0, value)).toFixed(4);
    document.getElementById("focal-x").value = clamp((event.clientX - box.left) / box.width);
    document.getElementById("focal-y").value = clamp((event.clientY - box.top) / box.height);
    form.submit();
  });
}

function setUpSelection() {
  const form = document.getElementById("bulk");
  if (!form) return;
  const boxes = () => Array.from(form.querySelectorAll("input[name=ids]"));
  const count = document.getElementById("selected-count");
  const refresh = () => { count.textContent = `${boxes().filter((box) => box.checked).length} selected`; };
  form.addEventListener("change", refresh);
  document.getElementById("select-all").addEventListener("click", () => {
    const all = boxes();
    const check = !all.every((box) => box.checked);
    all.forEach((box) => { box.checked = check; });
    refresh();
  });
  refresh();
}

// "My images": when the "Next page" link comes near the viewport, fetch that page and append its tiles to this grid
// (infinite scroll forward). Without scripts, or if a fetch fails, the link is an ordinary link to the next page.
function setUpInfiniteScroll() {
  const grid = document.querySelector("#bulk .grid");
  const link = document.querySelector(".pager a[rel=next]");
  const status = document.getElementById("grid-status");
  if (!grid || !link || !("IntersectionObserver" in window)) return;
  let loading = false;
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }, { rootMargin: "600px 0px" });

  async function loadMore() {
    if (loading) return;
    loading = true;
    observer.unobserve(link);
    try {
      const response = await fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const shown = new Set(Array.from(grid.querySelectorAll("input[name=ids]"), (box) => box.value));
      page.querySelectorAll("#bulk .grid > .tile").forEach((tile) => {
        const box = tile.querySelector("input[name=ids]");
        if (box && !shown.has(box.value)) grid.appendChild(document.adoptNode(tile));
      });
      const next = page.querySelector(".pager a[rel=next]");
      if (status) status.textContent = `${grid.children.length} images shown${next ? "" : ", all of them"}.`;
      if (next) {
        link.href = next.getAttribute("href");
        observer.observe(link); // fires again at once if the link is still in view
      } else {
        link.remove();
      }
    } catch (_) {
      // Leave the link for an ordinary click; stop fetching on scroll.
      observer.disconnect();
    } finally {
      loading = false;
    }
  }
  observer.observe(link);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", () => copyField(button.dataset.copy, button));
  });
  document.querySelectorAll("[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  setUpPicker();
  setUpFocalPoint();
  setUpSelection();
  setUpInfiniteScroll();
});
