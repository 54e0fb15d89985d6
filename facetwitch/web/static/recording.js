// One recording: follow its analysis, size the report frame, delete or retry.
"use strict";

(() => {
  const root = document.getElementById("recording");
  if (!root) return;
  const id = root.dataset.id;
  const status = root.dataset.status;
  const errorEl = document.getElementById("error");

  const box = document.getElementById("progress");
  if (box) {
    const fill = box.querySelector(".fill");
    FT.follow(id, (state) => {
      const t = FT.progressText(state);
      fill.style.width = `${Math.floor((state.fraction || 0) * 100)}%`;
      box.querySelector(".stage").textContent = state.status === "recording" ? "receiving the recording" : t.stage;
      box.querySelector(".percent").textContent = t.pct;
      box.querySelector(".eta").textContent = state.status === "recording" ? "waiting for the recording to end" : t.eta;
      if (state.status === "done" || state.status === "failed") window.location.reload();
      if (state.status === "deleted") window.location.assign("/");
    });
  }

  const frame = document.getElementById("report-frame");
  if (frame) {
    const fit = () => {
      try {
        const doc = frame.contentDocument;
        if (doc && doc.documentElement) frame.style.height = `${doc.documentElement.scrollHeight + 20}px`;
      } catch (e) { /* not readable: keep the default height */ }
    };
    frame.addEventListener("load", fit);
    window.addEventListener("resize", fit);
  }

  const retry = document.getElementById("retry");
  if (retry) {
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      try { await FT.post(`/api/r/${encodeURIComponent(id)}/retry`); window.location.reload(); }
      catch (e) { FT.showError(errorEl, e.message); retry.disabled = false; }
    });
  }

  const del = document.getElementById("delete");
  const confirmBox = document.getElementById("confirm");
  del.addEventListener("click", () => { confirmBox.hidden = false; del.hidden = true; });
  document.getElementById("cancel-delete").addEventListener("click", () => { confirmBox.hidden = true; del.hidden = false; });
  document.getElementById("confirm-delete").addEventListener("click", async (ev) => {
    ev.target.disabled = true;
    try {
      const res = await FT.post(`/api/r/${encodeURIComponent(id)}/delete`);
      window.location.assign(res.url || "/");
    } catch (e) { FT.showError(errorEl, e.message); ev.target.disabled = false; }
  });
  void status;
})();
