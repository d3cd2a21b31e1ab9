// pinhole upload page: copy buttons on each finished upload (URL, Markdown, HTML, BBCode, in the size chosen
// above the list), "Copy all links" for the batch, and copying the first link at once when the box is ticked
// (the choice is remembered in this browser).
"use strict";

const COPY_KINDS = ["URL", "Markdown", "HTML", "BBCode"];
const AUTO_KEY = "pinhole.autoCopy";
const SIZE_KEY = "pinhole.copySize";
const uploaded = new Map(); // row -> image, copied in the order the rows are shown
let autoCopied = false;

function linkFor(image, width) {
  if (!width) return image.url;
  const url = new URL(image.url, window.location.href);
  url.searchParams.set("w", width);
  return url.toString();
}

function altOf(image) {
  return image.description || image.originalName || image.original_name || "image";
}

function pasteText(kind, image, width) {
  const url = linkFor(image, width);
  const alt = altOf(image);
  const attr = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  switch (kind) {
    case "Markdown": return `![${alt.replace(/]/g, "")}](${url})`;
    case "HTML": return `<img src="${attr(url)}" alt="${attr(alt)}">`;
    case "BBCode": return `[img]${url}[/img]`;
    default: return url;
  }
}

function announce(text) {
  const status = document.getElementById("copy-status");
  if (status) status.textContent = text;
}

// Writes `text` to the clipboard; resolves true when it was copied. Without clipboard access (no user gesture, an
// insecure origin) the text is put in a field and selected, so Ctrl+C / long-press copies it.
async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) { /* fall through */ }
  }
  const field = document.createElement("textarea");
  field.value = text;
  field.setAttribute("readonly", "");
  field.className = "visually-hidden";
  document.body.append(field);
  field.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
  field.remove();
  return ok;
}

function currentWidth() {
  const select = document.getElementById("copy-size");
  return select ? select.value : "";
}

async function copyOne(button, kind, image) {
  const text = pasteText(kind, image, currentWidth());
  const ok = await writeClipboard(text);
  button.dataset.copied = ok ? "true" : "false";
  announce(ok ? `Copied the ${kind} of ${altOf(image)}.` : "Could not reach the clipboard: copy from the image page.");
}

function addButtons(item, image) {
  const bar = document.createElement("div");
  bar.className = "copy-buttons";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", `Copy the link of ${altOf(image)}`);
  COPY_KINDS.forEach((kind) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.dataset.kind = kind;
    button.textContent = kind;
    button.title = `Copy as ${kind}`;
    button.addEventListener("click", () => copyOne(button, kind, image));
    bar.append(button);
  });
  item.append(bar);
}

document.addEventListener("DOMContentLoaded", () => {
  const auto = document.getElementById("auto-copy");
  const size = document.getElementById("copy-size");
  const all = document.getElementById("copy-all");
  const kind = document.getElementById("copy-all-kind");
  if (!auto || !size || !all || !kind) return;
  auto.checked = window.localStorage.getItem(AUTO_KEY) === "1";
  auto.addEventListener("change", () => window.localStorage.setItem(AUTO_KEY, auto.checked ? "1" : "0"));
  const savedSize = window.localStorage.getItem(SIZE_KEY);
  if (savedSize !== null && Array.from(size.options).some((option) => option.value === savedSize)) size.value = savedSize;
  size.addEventListener("change", () => window.localStorage.setItem(SIZE_KEY, size.value));
  all.addEventListener("click", async () => {
    const images = Array.from(document.querySelectorAll("#uploads li.upload.done"), (row) => uploaded.get(row));
    const text = images.filter(Boolean).map((image) => pasteText(kind.value, image, currentWidth())).join("\n");
    const ok = await writeClipboard(text);
    all.dataset.copied = ok ? "true" : "false";
    announce(ok ? `Copied ${uploaded.size} links (${kind.value}).` : "Could not reach the clipboard.");
  });
  document.addEventListener("pinhole:uploaded", async (event) => {
    const { item, image } = event.detail;
    uploaded.set(item, image);
    all.disabled = false;
    addButtons(item, image);
    if (auto.checked && !autoCopied) {
      autoCopied = true;
      const ok = await writeClipboard(pasteText("URL", image, currentWidth()));
      announce(ok ? "The first link is on the clipboard." : "Could not copy automatically: use the buttons.");
    }
  });
});
