// The consult bundle: choose recordings, make the zip, offer it for download.
"use strict";

(() => {
  const form = document.getElementById("bundle-form");
  if (!form) return;
  const errorEl = document.getElementById("error");
  const boxes = () => [...form.querySelectorAll('input[name="ids"]')];
  document.getElementById("all").addEventListener("change", (e) => boxes().forEach((b) => { b.checked = e.target.checked; }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    FT.showError(errorEl, "");
    const ids = boxes().filter((b) => b.checked).map((b) => b.value);
    if (!ids.length) { FT.showError(errorEl, "Choose at least one recording."); return; }
    const button = document.getElementById("make-bundle");
    button.disabled = true;
    button.textContent = "Making the bundle…";
    try {
      const res = await FT.post("/api/bundle", { ids, clips: document.getElementById("clips").checked });
      document.getElementById("bundle-summary").textContent = res.summary;
      const link = document.getElementById("bundle-link");
      link.href = res.url;
      link.setAttribute("download", res.name);
      document.getElementById("bundle-ready").hidden = false;
    } catch (err) {
      FT.showError(errorEl, err.message);
    } finally {
      button.disabled = false;
      button.textContent = "Make the bundle";
    }
  });
})();
