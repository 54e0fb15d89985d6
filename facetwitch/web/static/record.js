// Record in the browser: a mirrored preview, MediaRecorder with sound, a chunk sent every
// second (so a closed tab loses at most about a second), "I felt one" marks, and a face
// outline found by facetwitch on this computer from small frames (nothing leaves it).
"use strict";

(() => {
  const preview = document.getElementById("preview");
  const overlay = document.getElementById("overlay");
  const faceStatus = document.getElementById("face-status");
  const timerEl = document.getElementById("timer");
  const startBtn = document.getElementById("start");
  const stopBtn = document.getElementById("stop");
  const feltBtn = document.getElementById("felt");
  const countEl = document.getElementById("marker-count");
  const savedEl = document.getElementById("saved");
  const errorEl = document.getElementById("error");

  // what the page is doing, readable by the tests (and by anyone curious)
  const state = window.facetwitchRecorder = {
    id: null, mime: "", chunksSent: 0, chunksQueued: 0, markers: [], recording: false, audio: false,
    faceChecks: 0, faceFound: null, error: "",
  };
  let stream = null;
  let recorder = null;
  let t0 = 0;
  let seq = 0;
  const queue = [];
  let sending = false;
  let drained = null;

  const MIME_TYPES = [
    "video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm;codecs=h264,opus",
    "video/webm", "video/mp4",
  ];

  function fail(message) {
    state.error = message;
    FT.showError(errorEl, message);
  }

  async function openCamera() {
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio: true });
      state.audio = stream.getAudioTracks().length > 0;
    } catch (e) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
        savedEl.textContent = "No microphone: recording without sound.";
      } catch (e2) {
        faceStatus.textContent = "no camera";
        fail(`The camera cannot be opened (${e2.name}): allow this page to use the camera, or close other programs that use it.`);
        return;
      }
    }
    preview.srcObject = stream;
    await preview.play().catch(() => {});
    startBtn.disabled = false;
    faceLoop();
  }

  // -- live face outline: a 256 px frame every ~0.4 s to facetwitch on this computer --------
  const small = document.createElement("canvas");
  async function faceLoop() {
    while (stream) {
      await new Promise((r) => setTimeout(r, 400));
      if (!preview.videoWidth) continue;
      const w = 256;
      const h = Math.round((preview.videoHeight / preview.videoWidth) * w / 2) * 2;
      small.width = w; small.height = h;
      const ctx = small.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(preview, 0, 0, w, h);
      const pixels = ctx.getImageData(0, 0, w, h).data;
      try {
        const face = await FT.post(`/api/face?w=${w}&h=${h}`, pixels, { raw: true, type: "application/octet-stream" });
        state.faceChecks += 1;
        state.faceFound = face.found;
        drawFace(face, preview.videoWidth / w);
      } catch (e) {
        faceStatus.textContent = "face check unavailable";
      }
    }
  }

  function drawFace(face, scale) {
    overlay.width = preview.videoWidth;
    overlay.height = preview.videoHeight;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (!face.found) {
      faceStatus.textContent = "no face: look at the camera";
      faceStatus.className = "face-status bad";
      return;
    }
    ctx.fillStyle = "rgba(80, 220, 140, 0.9)";
    const r = Math.max(1.5, overlay.width / 400);
    for (const [x, y] of face.points) {
      ctx.beginPath();
      ctx.arc(x * overlay.width, y * overlay.height, r, 0, 2 * Math.PI);
      ctx.fill();
    }
    const ppm = face.px_per_mm ? face.px_per_mm * scale : null;
    if (ppm !== null && ppm < 2) {
      faceStatus.textContent = "face found: come a little closer";
      faceStatus.className = "face-status warn";
    } else {
      faceStatus.textContent = "face found";
      faceStatus.className = "face-status good";
    }
  }

  // -- chunks: sent in order, each retried until the server has it ----------------------------
  async function pump() {
    if (sending) return;
    sending = true;
    while (queue.length) {
      const { n, blob } = queue[0];
      let tries = 0;
      for (;;) {
        try {
          await FT.post(`/api/rec/${encodeURIComponent(state.id)}/chunk?seq=${n}`, blob, { raw: true, type: "application/octet-stream" });
          break;
        } catch (e) {
          tries += 1;
          if (/ended/.test(e.message) || tries > 20) {
            fail(`The recording could not be saved: ${e.message}`);
            queue.length = 0;
            sending = false;
            if (recorder && recorder.state !== "inactive") recorder.stop();
            return;
          }
          await new Promise((r) => setTimeout(r, Math.min(4000, 250 * tries)));
        }
      }
      queue.shift();
      state.chunksSent += 1;
      savedEl.textContent = `Saved on this computer: ${FT.duration(state.chunksSent)} so far.`;
    }
    sending = false;
    if (drained && !recording()) { drained(); drained = null; }
  }

  const recording = () => recorder && recorder.state !== "inactive";

  async function start() {
    FT.showError(errorEl, "");
    startBtn.disabled = true;
    const mime = MIME_TYPES.find((m) => window.MediaRecorder && MediaRecorder.isTypeSupported(m)) || "";
    try {
      const res = await FT.post("/api/rec/start", { mime, complaint: document.getElementById("complaint").value });
      state.id = res.id;
    } catch (e) { fail(e.message); startBtn.disabled = false; return; }
    state.mime = mime;
    recorder = new MediaRecorder(stream, { mimeType: mime || undefined, videoBitsPerSecond: 8000000, audioBitsPerSecond: 128000 });
    recorder.ondataavailable = (e) => {
      if (e.data && e.data.size) { queue.push({ n: seq++, blob: e.data }); state.chunksQueued = seq; pump(); }
    };
    recorder.onstart = () => {
      t0 = performance.now();
      state.recording = true;
      tick();
    };
    recorder.onstop = () => { state.recording = false; };
    recorder.start(1000);
    stopBtn.disabled = false;
    feltBtn.disabled = false;
    feltBtn.focus();
  }

  function tick() {
    if (!state.recording) return;
    const s = Math.floor((performance.now() - t0) / 1000);
    timerEl.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    setTimeout(tick, 250);
  }

  async function felt() {
    if (!state.recording) return;
    const t = (performance.now() - t0) / 1000;
    state.markers.push(t);
    countEl.textContent = String(state.markers.length);
    feltBtn.classList.add("flash");
    setTimeout(() => feltBtn.classList.remove("flash"), 250);
    try { await FT.post(`/api/rec/${encodeURIComponent(state.id)}/marker`, { t_s: t }); }
    catch (e) { fail(`The mark was not saved: ${e.message}`); }
  }

  async function stop() {
    stopBtn.disabled = true;
    feltBtn.disabled = true;
    const stopped = new Promise((r) => recorder.addEventListener("stop", r, { once: true }));
    recorder.stop();
    await stopped;
    await new Promise((r) => { drained = r; pump(); if (!queue.length && !sending) { drained = null; r(); } });
    try {
      const res = await FT.post(`/api/rec/${encodeURIComponent(state.id)}/stop`, { chunks: seq, complaint: document.getElementById("complaint").value });
      window.location.assign(res.url);
    } catch (e) { fail(e.message); }
  }

  startBtn.addEventListener("click", start);
  stopBtn.addEventListener("click", stop);
  feltBtn.addEventListener("click", felt);
  document.addEventListener("keydown", (e) => {
    // on the button itself, space presses it (one click); elsewhere it marks too
    if (e.code !== "Space" || e.repeat || !state.recording || e.target === feltBtn) return;
    if (["TEXTAREA", "INPUT"].includes(e.target.tagName)) return;
    e.preventDefault();
    felt();
  });
  openCamera();
})();
