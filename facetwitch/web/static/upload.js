// Upload: drop or choose videos; each is sent on its own (with upload progress), one after
// another, then its analysis is followed in the list.
"use strict";

(() => {
  const form = document.getElementById("upload-form");
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const list = document.getElementById("uploads");
  const itemTemplate = document.getElementById("upload-item");
  const errorEl = document.getElementById("error");
  const maxBytes = Number(form.dataset.max);
  const queue = [];
  let busy = false;

  function addFiles(files) {
    FT.showError(errorEl, "");
    for (const file of files) {
      const node = itemTemplate.content.firstElementChild.cloneNode(true);
      node.querySelector(".name").textContent = file.name;
      list.appendChild(node);
      if (file.size > maxBytes) {
        setState(node, `too large (${(file.size / 1e9).toFixed(2)} GB)`, 0, true);
        continue;
      }
      setState(node, "waiting to upload", 0);
      queue.push({ file, node });
    }
    pump();
  }

  function setState(node, text, fraction, failed = false) {
    node.querySelector(".state").textContent = text;
    node.querySelector(".fill").style.width = `${Math.floor(fraction * 100)}%`;
    node.classList.toggle("failed", failed);
  }

  function send(file, node) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      data.append("mirrored", document.getElementById("mirrored").checked ? "1" : "0");
      data.append("complaint", document.getElementById("complaint").value);
      data.append("markers", document.getElementById("markers").value);
      data.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/upload");
      xhr.setRequestHeader("X-Facetwitch-Token", FT.token);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) setState(node, `uploading ${Math.floor((e.loaded / e.total) * 100)} %`, e.loaded / e.total);
      };
      xhr.onload = () => {
        let res = {};
        try { res = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(res);
        else reject(new Error(res.error || `the server answered ${xhr.status}`));
      };
      xhr.onerror = () => reject(new Error("the upload failed (is facetwitch serve still running?)"));
      xhr.send(data);
    });
  }

  async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const { file, node } = queue.shift();
      try {
        const res = await send(file, node);
        node.dataset.id = res.id;
        const link = node.querySelector(".open");
        link.href = res.url;
        link.textContent = "Open";
        link.hidden = false;
        FT.follow(res.id, (state) => {
          const t = FT.progressText(state);
          if (state.status === "done") {
            setState(node, "analysed", 1);
            link.textContent = "Open the report";
          } else if (state.status === "failed") {
            setState(node, state.error || "the analysis failed", 1, true);
          } else {
            setState(node, `${t.stage} · ${t.pct} · ${t.eta}`, state.fraction || 0);
          }
        });
      } catch (e) {
        setState(node, e.message, 0, true);
      }
    }
    busy = false;
  }

  input.addEventListener("change", () => { addFiles([...input.files]); input.value = ""; });
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
  drop.addEventListener("drop", (e) => addFiles([...e.dataTransfer.files]));
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  form.addEventListener("submit", (e) => e.preventDefault());
})();
