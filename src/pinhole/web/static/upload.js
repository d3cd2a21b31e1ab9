// pinhole upload page: drop, paste or pick files; each goes to POST /v2/images with its own progress bar.
// Files from the resumable threshold up go through tus (/v2/uploads) in pieces, with Pause and Resume; a pasted
// link goes to POST /v2/images as `url`, for the server to fetch.
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
  return errorFrom(xhr.status, xhr.responseText);
}

function errorFrom(status, text) {
  let body = null;
  try { body = JSON.parse(text); } catch (_) { /* not JSON: a proxy's page */ }
  const error = body && body.error;
  if (!error) return `Upload failed (HTTP ${status})`;
  const known = MESSAGES[error.code];
  return known ? `${known}: ${error.message}` : error.message;
}

function row(file, label) {
  const item = document.createElement("li");
  item.className = "upload";
  const name = document.createElement("span");
  name.className = "file-name";
  name.textContent = label || `${file.name || "pasted image"} (${sizeText(file.size)})`;
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
  if (view.button) view.button.remove();
}

function succeed(view, image, guest) {
  if (view.button) view.button.remove();
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
  // upload_copy.js adds the copy buttons (and copies the first link when asked to).
  document.dispatchEvent(new CustomEvent("pinhole:uploaded", { detail: { item: view.item, image } }));
}

function choices() {
  const privateBox = document.getElementById("private");
  const tags = document.getElementById("upload-tags");
  return {
    isPrivate: Boolean(privateBox && privateBox.checked),
    tags: tags && tags.value.trim() ? tags.value : "",
  };
}

function upload(zone, file) {
  const view = row(file);
  const max = Number(zone.dataset.maxBytes);
  if (max && file.size > max) {
    fail(view, `Too large: at most ${sizeText(max)}`);
    return;
  }
  if (file.size >= Number(zone.dataset.resumableThreshold)) {
    new Resumable(zone, file, view).start();
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name || "pasted.png");
  send(zone, form, view);
}

function fetchLink(zone, url) {
  const view = row(null, url);
  const form = new FormData();
  form.append("url", url);
  send(zone, form, view);
}

function send(zone, form, view) {
  const chosen = choices();
  if (chosen.isPrivate) form.append("isPrivate", "true");
  if (chosen.tags) form.append("tags", chosen.tags);
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

// tus 1.0 (https://tus.io): create, then PATCH pieces; Pause aborts the piece in flight, Resume asks the server
// (HEAD) how many bytes it kept and goes on from there. The upload's URL is kept in localStorage, so the same file
// picked again after a reload resumes too.
const TUS = { "Tus-Resumable": "1.0.0" };

function metadataHeader(pairs) {
  const utf8 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  return Object.entries(pairs).filter(([, value]) => value !== "").map(([key, value]) => `${key} ${utf8(value)}`).join(",");
}

class Resumable {
  constructor(zone, file, view) {
    this.zone = zone;
    this.file = file;
    this.view = view;
    this.url = null;
    this.offset = 0;
    this.xhr = null;
    this.paused = false;
    this.storeKey = `pinhole-tus:${file.name}:${file.size}:${file.lastModified}`;
    this.view.button = document.createElement("button");
    this.view.button.type = "button";
    this.view.button.className = "button pause";
    this.view.button.textContent = "Pause";
    this.view.button.addEventListener("click", () => (this.paused ? this.resume() : this.pause()));
    this.view.item.insertBefore(this.view.button, this.view.bar);
  }

  headers(extra) {
    const headers = { ...TUS, ...extra };
    if (this.zone.dataset.csrf) headers["X-CSRF-Token"] = this.zone.dataset.csrf;
    return headers;
  }

  async start() {
    this.view.status.textContent = "Uploading";
    const known = localStorage.getItem(this.storeKey);
    if (known && (await this.ask(known))) {
      this.url = known;
      this.sendNext();
      return;
    }
    const chosen = choices();
    const response = await fetch(this.zone.dataset.tusUrl, {
      method: "POST",
      headers: this.headers({
        "Upload-Length": String(this.file.size),
        "Upload-Metadata": metadataHeader({
          filename: this.file.name || "pasted.png",
          tags: chosen.tags,
          isPrivate: chosen.isPrivate ? "true" : "",
        }),
      }),
    });
    if (response.status !== 201) {
      fail(this.view, errorFrom(response.status, await response.text()));
      return;
    }
    this.url = response.headers.get("Location");
    localStorage.setItem(this.storeKey, this.url);
    this.sendNext();
  }

  // HEAD: where the server is; false when the upload is gone (expired, finished or deleted).
  async ask(url) {
    const response = await fetch(url, { method: "HEAD", headers: this.headers({}) });
    if (response.status !== 200 || response.headers.get("Pinhole-Image-Id")) return false;
    this.offset = Number(response.headers.get("Upload-Offset"));
    this.show();
    return true;
  }

  show() {
    this.view.item.dataset.offset = String(this.offset);
    this.view.bar.value = Math.floor((this.offset / this.file.size) * 100);
    this.view.status.textContent = `${this.view.bar.value}%`;
  }

  sendNext() {
    if (this.paused) return;
    const end = Math.min(this.offset + Number(this.zone.dataset.chunkBytes), this.file.size);
    const xhr = new XMLHttpRequest();
    this.xhr = xhr;
    xhr.open("PATCH", this.url);
    const headers = this.headers({
      "Upload-Offset": String(this.offset),
      "Content-Type": "application/offset+octet-stream",
    });
    Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
    const start = this.offset;
    xhr.upload.addEventListener("progress", (event) => {
      this.view.bar.value = Math.floor(((start + event.loaded) / this.file.size) * 100);
      this.view.status.textContent = `${this.view.bar.value}%`;
    });
    xhr.addEventListener("load", () => this.received(xhr));
    xhr.addEventListener("error", () => this.interrupted("Connection lost"));
    xhr.addEventListener("abort", () => this.interrupted("Paused"));
    xhr.send(this.file.slice(this.offset, end));
  }

  async received(xhr) {
    if (xhr.status !== 204) {
      localStorage.removeItem(this.storeKey);
      fail(this.view, errorText(xhr));
      return;
    }
    this.offset = Number(xhr.getResponseHeader("Upload-Offset"));
    this.show();
    if (xhr.getResponseHeader("Pinhole-Image-Id")) {
      localStorage.removeItem(this.storeKey);
      const response = await fetch(this.url, { headers: this.headers({}) });
      succeed(this.view, await response.json(), this.zone.dataset.guest === "true");
      return;
    }
    this.sendNext();
  }

  interrupted(why) {
    this.paused = true;
    this.view.button.textContent = "Resume";
    this.view.item.classList.add("paused");
    this.view.status.textContent = `${why} at ${this.view.bar.value}%`;
  }

  pause() {
    this.paused = true;
    if (this.xhr) this.xhr.abort();
    else this.interrupted("Paused");
  }

  async resume() {
    this.paused = false;
    this.view.button.textContent = "Pause";
    this.view.item.classList.remove("paused");
    try {
      if (!(await this.ask(this.url))) {
        fail(this.view, "This upload expired; upload the file again");
        return;
      }
    } catch (_) {
      this.interrupted("Connection lost");
      return;
    }
    this.view.item.dataset.resumedFrom = String(this.offset);
    this.view.status.textContent = `Resumed at ${this.view.bar.value}%`;
    this.sendNext();
  }
}

function uploadAll(zone, files) {
  Array.from(files).forEach((file) => upload(zone, file));
}

document.addEventListener("DOMContentLoaded", () => {
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("files");
  const linkForm = document.getElementById("link-form");
  linkForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const link = document.getElementById("link");
    fetchLink(zone, link.value.trim());
    link.value = "";
  });
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
