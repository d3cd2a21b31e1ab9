// pinhole image page: a custom width/height and fit beside the picker's fixed widths. A custom size replaces the
// chosen width in the copied snippets and the preview; picking a fixed width clears it. A preset (the server's
// transforms.presets) replaces both and the format: a preset alone is what strangers may always ask for.
"use strict";

function customSnippet(kind, url, alt) {
  const attr = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  switch (kind) {
    case "Markdown": return `![${alt.replace(/]/g, "")}](${url})`;
    case "HTML": return `<img src="${attr(url)}" alt="${attr(alt)}">`;
    case "BBCode": return `[img]${url}[/img]`;
    default: return url;
  }
}

function setUpPresets(picker) {
  const preset = document.getElementById("preset");
  if (!preset) return null;
  const size = document.getElementById("size");
  const format = document.getElementById("format");
  preset.addEventListener("change", () => {
    const chosen = preset.selectedOptions[0];
    if (!preset.value || !chosen) {
      size.dispatchEvent(new Event("change"));  // back to the picker's own choice
      return;
    }
    size.value = "";
    format.value = "";
    ["custom-w", "custom-h"].forEach((id) => {
      const input = document.getElementById(id);
      if (input) input.value = "";
    });
    const query = chosen.dataset.query;
    document.querySelectorAll("input[data-kind]").forEach((input) => {
      input.value = customSnippet(input.dataset.kind, picker.dataset.base + query, picker.dataset.alt);
    });
    document.getElementById("preview").src = picker.dataset.preview + query;
  });
  [size, format].forEach((select) => select.addEventListener("change", () => { preset.value = ""; }));
  return preset;
}

document.addEventListener("DOMContentLoaded", () => {
  const picker = document.getElementById("picker");
  if (!picker) return;
  const preset = setUpPresets(picker);
  const box = document.getElementById("custom-size");
  if (!box) return;
  const width = document.getElementById("custom-w");
  const height = document.getElementById("custom-h");
  const fit = document.getElementById("custom-fit");
  const size = document.getElementById("size");
  const format = document.getElementById("format");
  const valid = (input) => input.value === "" || (input.checkValidity() && Number(input.value) >= 1);
  const urlFor = (base) => {
    const params = new URLSearchParams();
    if (width.value) params.set("w", width.value);
    if (height.value) params.set("h", height.value);
    if (width.value && height.value && fit.value !== "inside") params.set("fit", fit.value);
    if (format.value) params.set("format", format.value);
    const query = params.toString();
    return query ? `${base}?${query}` : base;
  };
  const apply = () => {
    if (!width.value && !height.value) return;
    if (!valid(width) || !valid(height)) return;
    const url = urlFor(picker.dataset.base);
    document.querySelectorAll("input[data-kind]").forEach((input) => {
      input.value = customSnippet(input.dataset.kind, url, picker.dataset.alt);
    });
    document.getElementById("preview").src = urlFor(picker.dataset.preview);
  };
  const changed = () => {
    if (size.value) size.value = "";
    if (preset) preset.value = "";
    apply();
  };
  [width, height].forEach((input) => input.addEventListener("input", changed));
  fit.addEventListener("change", changed);
  format.addEventListener("change", apply);
  size.addEventListener("change", () => {
    if (!size.value) return;
    width.value = "";
    height.value = "";
  });
});
