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
  const update = () => {
    const url = transformUrl(picker.dataset.base, size.value, format.value);
    document.querySelectorAll("input[data-kind]").forEach((input) => {
      input.value = snippet(input.dataset.kind, url, picker.dataset.alt);
    });
    preview.src = transformUrl(picker.dataset.preview, size.value, format.value);
  };
  size.addEventListener("change", update);
  format.addEventListener("change", update);
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
  setUpSelection();
});
