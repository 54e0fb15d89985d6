// facetwitch: what every page shares. No user text is ever put into innerHTML.
"use strict";

const FT = (() => {
  const token = document.querySelector('meta[name="facetwitch-token"]').content;

  // POST to the server with the session token; JSON in and out. Throws Error(message).
  async function post(url, body, { raw = false, type = "application/json" } = {}) {
    const init = { method: "POST", headers: { "X-Facetwitch-Token": token }, credentials: "same-origin" };
    if (body !== undefined) {
      init.body = raw ? body : JSON.stringify(body);
      init.headers["Content-Type"] = raw ? type : "application/json";
    }
    const res = await fetch(url, init);
    let data = {};
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new Error(data.error || `the server answered ${res.status}`);
    return data;
  }

  function showError(el, message) {
    el.textContent = message;
    el.hidden = !message;
  }

  function duration(s) {
    if (s === null || s === undefined || !isFinite(s)) return "";
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  // Follow an analysis: calls onState(state) for each change; resumes after a reload since
  // the state lives on the server. Falls back to polling when the stream breaks.
  function follow(id, onState) {
    let done = false;
    const source = new EventSource(`/api/r/${encodeURIComponent(id)}/progress`);
    source.onmessage = (e) => {
      const state = JSON.parse(e.data);
      onState(state);
      if (["done", "failed", "deleted"].includes(state.status)) { done = true; source.close(); }
    };
    source.onerror = () => {
      if (done) return;
      source.close();
      setTimeout(() => { if (!done) follow(id, onState); }, 2000);
    };
    return () => { done = true; source.close(); };
  }

  function progressText(state) {
    const pct = `${Math.floor((state.fraction || 0) * 100)} %`;
    let eta = "time left: estimating…";
    if (state.status === "queued" && state.ahead) eta = `${state.ahead} analysis ahead in the queue`;
    else if (state.eta_s !== null && state.eta_s !== undefined) eta = `about ${duration(state.eta_s)} left`;
    return { stage: state.stage_label || state.status, pct, eta };
  }

  return { token, post, showError, duration, follow, progressText };
})();
