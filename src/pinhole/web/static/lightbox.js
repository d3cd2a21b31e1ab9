// pinhole lightbox for the image grids ("My images", albums): each tile gets a "View" button that opens the
// pictures full-window; arrow keys and swipes go to the previous/next tile, Escape or "Close" closes it and gives
// the focus back. Without scripts the tiles stay plain links to each image's page.
"use strict";

const FULL_WIDTH = "1600";

function fullUrl(thumb) {
  const url = new URL(thumb.currentSrc || thumb.src, window.location.href);
  if (url.searchParams.has("w")) url.searchParams.set("w", FULL_WIDTH);
  return url.toString();
}

function buildBox() {
  const box = document.createElement("div");
  box.id = "lightbox";
  box.className = "lightbox";
  box.hidden = true;
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.setAttribute("aria-label", "Image viewer");
  box.innerHTML = `
    <img id="lightbox-image" alt="">
    <p class="lightbox-caption"><span id="lightbox-caption"></span> <span id="lightbox-position" class="hint"></span>
      <a id="lightbox-open" href="#">Open page</a></p>
    <button type="button" id="lightbox-prev" class="lightbox-nav prev" aria-label="Previous image">‹</button>
    <button type="button" id="lightbox-next" class="lightbox-nav next" aria-label="Next image">›</button>
    <button type="button" id="lightbox-close" class="lightbox-close" aria-label="Close">×</button>`;
  document.body.append(box);
  return box;
}

function setUpLightbox() {
  const grid = document.querySelector(".grid");
  if (!grid) return;
  const box = buildBox();
  const picture = box.querySelector("#lightbox-image");
  let index = -1;
  let opener = null;
  const tiles = () => Array.from(grid.querySelectorAll(".tile")).filter((tile) => tile.querySelector("a.thumb img:not(.lqip)"));

  const show = (at) => {
    const all = tiles();
    if (!all.length) return;
    index = (at + all.length) % all.length;
    const tile = all[index];
    const thumb = tile.querySelector("a.thumb img:not(.lqip)");
    picture.src = fullUrl(thumb);
    picture.alt = thumb.alt;
    box.querySelector("#lightbox-caption").textContent = thumb.alt;
    box.querySelector("#lightbox-position").textContent = `${index + 1} of ${all.length}`;
    box.querySelector("#lightbox-open").href = tile.querySelector("a.thumb").href;
    box.dataset.index = String(index);
  };
  const open = (tile, button) => {
    opener = button;
    show(tiles().indexOf(tile));
    box.hidden = false;
    document.body.classList.add("lightbox-open");
    box.querySelector("#lightbox-close").focus();
  };
  const close = () => {
    box.hidden = true;
    picture.removeAttribute("src");
    document.body.classList.remove("lightbox-open");
    if (opener) opener.focus();
  };

  const addButton = (tile) => {
    if (tile.querySelector(".lightbox-button") || !tile.querySelector("a.thumb img:not(.lqip)")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small lightbox-button";
    button.textContent = "View";
    button.setAttribute("aria-label", `View ${tile.querySelector("a.thumb img:not(.lqip)").alt} larger`);
    button.addEventListener("click", () => open(tile, button));
    tile.append(button);
  };
  tiles().forEach(addButton);
  // Tiles appended by infinite scroll get their button too.
  new MutationObserver(() => tiles().forEach(addButton)).observe(grid, { childList: true });

  box.querySelector("#lightbox-prev").addEventListener("click", () => show(index - 1));
  box.querySelector("#lightbox-next").addEventListener("click", () => show(index + 1));
  box.querySelector("#lightbox-close").addEventListener("click", close);
  box.addEventListener("click", (event) => { if (event.target === box) close(); });
  document.addEventListener("keydown", (event) => {
    if (box.hidden) return;
    if (event.key === "Escape") close();
    else if (event.key === "ArrowLeft") show(index - 1);
    else if (event.key === "ArrowRight") show(index + 1);
    else return;
    event.preventDefault();
  });
  let startX = null;
  box.addEventListener("touchstart", (event) => { startX = event.changedTouches[0].clientX; }, { passive: true });
  box.addEventListener("touchend", (event) => {
    if (startX === null) return;
    const dx = event.changedTouches[0].clientX - startX;
    startX = null;
    if (Math.abs(dx) > 40) show(dx < 0 ? index + 1 : index - 1);
  });
}

document.addEventListener("DOMContentLoaded", setUpLightbox);
