// pinhole upload page: drop, paste or pick files; each goes to POST /v2/images with its own progress bar.
"use strict";

const MESSAGES = {
  file_too_large: "Too large",
  unsupported_format: "Not an image pinhole accepts (JPEG, PNG, WebP, GIF, AVIF, HEIC, JPEG XL, TIFF or BMP)",
  corrupt_image: "Not a readable image",
  image_too_large: "Too many pixels",
  missing_api_key: "Sign in to upload",
  quota_exceeded: "Over your storage quota",
  rate_limited: "Too many uploads; wait a moment",
  session_expired: "Your session ended; sign in again",
  csrf_failed: "Your session changed; reload the page",
};

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function errorText(xhr) {
  let body = null;
  try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON: a proxy's page */ }
  const error = body && body.error;
  if (!error) return `Upload failed (HTTP ${xhr.status})`;
  const known = MESSAGES[error.code];
  return known ? `${known}: ${error.message}` : error.message;
}

function row(file) {
  const item = document.createElement("li");
  item.className = "upload";
  const name = document.createElement("span");
  name.className = "file-name";
  name.textContent = `${file.name || "pasted image"} (${sizeText(file.size)})`;
  const status = document.createElement("span");
  status.className = "status";
  status.textContent = "Waiting";
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${name.textContent}`);
  item.append(name, status, bar);
  document.getElementById("uploads").append(item);
  return { item, status, bar };
}

function fail(view, text) {
  view.item.classList.add("failed");
  view.status.textContent = text;
  view.bar.remove();
}

function succeed(view, image, guest) {
  view.item.classList.add("done");
  view.bar.value = 100;
  view.status.textContent = "";
  const link = document.createElement("a");
  if (guest) {
    link.href = image.url;
    link.textContent = image.url;
  } else {
    link.href = `/images/${encodeURIComponent(image.id)}`;
    link.textContent = "Open";
    link.className = "result";
  }
  view.status.append("Uploaded · ", link);
}

function upload(zone, file) {
  const view = row(file);
  const max = Number(zone.dataset.maxBytes);
  if (max && file.size > max) {
    fail(view, `Too large: at most ${sizeText(max)}`);
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name || "pasted.png");
  const privateBox = document.getElementById("private");
  if (privateBox && privateBox.checked) form.append("isPrivate", "true");
  const tags = document.getElementById("upload-tags");
  if (tags && tags.value.trim()) form.append("tags", tags.value);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", zone.dataset.uploadUrl);
  if (zone.dataset.csrf) xhr.setRequestHeader("X-CSRF-Token", zone.dataset.csrf);
  xhr.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    view.bar.value = Math.round((event.loaded / event.total) * 100);
    view.status.textContent = `${view.bar.value}%`;
  });
  xhr.addEventListener("load", () => {
    if (xhr.status === 201) {
      succeed(view, JSON.parse(xhr.responseText), zone.dataset.guest === "true");
    } else {
      fail(view, errorText(xhr));
    }
  });
  xhr.addEventListener("error", () => fail(view, "Network error: the upload did not reach the server"));
  view.status.textContent = "Uploading";
  xhr.send(form);
}

function uploadAll(zone, files) {
  Array.from(files).forEach((file) => upload(zone, file));
}

document.addEventListener("DOMContentLoaded", () => {
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("files");
  input.addEventListener("change", () => {
    uploadAll(zone, input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    uploadAll(zone, event.dataTransfer.files);
  });
  document.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData ? event.clipboardData.files : []);
    if (files.length) {
      event.preventDefault();
      uploadAll(zone, files);
    }
  });
});
