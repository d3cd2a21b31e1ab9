// pinhole theme: follow the system, or the light/dark choice made with the header's toggle (kept in localStorage).
// Loaded without `defer` in <head>, so the chosen theme applies before the page is drawn (no flash).
"use strict";

(function () {
  const KEY = "pinhole.theme";
  const THEMES = ["system", "light", "dark"];
  const LABELS = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
  const stored = () => { try { return window.localStorage.getItem(KEY) || "system"; } catch (_) { return "system"; } };
  const apply = (theme) => {
    if (theme === "system") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", theme);
  };
  apply(stored());
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const label = () => { button.textContent = LABELS[stored()] || LABELS.system; };
    button.hidden = false;
    label();
    button.addEventListener("click", () => {
      const next = THEMES[(THEMES.indexOf(stored()) + 1) % THEMES.length];
      try { window.localStorage.setItem(KEY, next); } catch (_) { /* private mode: this page only */ }
      apply(next);
      label();
    });
  });
})();
