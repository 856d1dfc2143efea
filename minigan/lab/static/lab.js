// The minigan lab's page. It computes nothing of the game: it sends the student's settings and
// steps to the lab's server (minigan/lab/server.py) and draws the state it answers with.
// Text from the server is shown with textContent only: nothing it sends is evaluated.
"use strict";

const $ = (id) => document.getElementById(id);
const REAL = "#1a9641", FAKE = "#7b3294", PULL = "rgba(50, 50, 50, 0.55)";
const FRAME_MS = 100; // a frame every ~100 ms while playing

let options = null;   // GET /api/options
let sid = null;       // this tab's session
let state = null;     // the last state the server sent
let playing = false, frames = 0;
let generation = 0;   // the play loop that may run: a pause and a new play never leave two
let queue = Promise.resolve();  // requests go one after another, none is dropped
let drawn = [];       // points clicked on the plot, for the drawn set
let rate = { t: 0, iterations: 0 };

// ---- the server

async function api(path, body) {
  const init = body === undefined ? { method: "GET" }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  let res;
  try {
    res = await fetch("/api/" + path, init);
  } catch (e) {
    throw new Error("the lab's server does not answer: is python -m minigan.lab still running?");
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* no JSON: said below */ }
  if (!res.ok || data === null) {
    const error = new Error((data && data.error) || `the lab's server answered ${res.status} without a reason.`);
    error.state = data && data.state;  // a step stopped by a NaN still says where the game is
    throw error;
  }
  return data;
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

// Requests are queued, one at a time: a click while a frame is on its way waits for it. Each
// answer's state is drawn; an error is shown (and play paused), and the form shows the game's settings.
// A step leaves the form alone (the student may be typing in it); every other answer, and any
// error, sets the form to the game's settings.
function act(path, body) {
  const stepping = path.endsWith("/step");
  const run = async () => {
    try {
      state = await api(path, body);
      showError("");
      if (!stepping) {
        syncForm();
        showCode(await api(`session/${state.session}/code`));
      }
      return true;
    } catch (e) {
      if (e.state) state = e.state;
      showError(e.message);
      setPlaying(false);
      if (state) syncForm();
      return false;
    } finally {
      draw();
    }
  };
  const done = queue.then(run);
  queue = done.catch(() => false);
  return done;
}

// ---- the settings form, built from the server's list

function buildForm() {
  const form = $("settings");
  for (const [key, s] of Object.entries(options.settings)) {
    if (s.kind === "points") continue;
    const label = document.createElement("label");
    label.title = s.help ? `${s.accepts}; ${s.help}` : s.accepts;
    label.append(s.label + " ");
    let input;
    if (s.kind === "choice") {
      input = document.createElement("select");
      for (const c of s.choices) {
        const o = document.createElement("option");
        o.value = o.textContent = c;
        input.append(o);
      }
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.min = s.low; input.max = s.high;
      input.step = s.kind === "int" ? "1" : "any";
    }
    input.id = "set-" + key;
    input.name = key;
    input.value = s.default;
    input.addEventListener("change", () => settingChanged(key));
    label.append(input);
    form.append(label);
  }
  form.addEventListener("submit", (e) => e.preventDefault());
}

function readSettings() {
  const out = {};
  for (const [key, s] of Object.entries(options.settings)) {
    if (s.kind === "points") continue;
    const raw = $("set-" + key).value;
    // A number the browser cannot read goes as the text typed: the server says what is wrong with it.
    out[key] = s.kind === "choice" ? raw : (raw.trim() !== "" && isFinite(Number(raw)) ? Number(raw) : raw);
  }
  if (out.dataset === "drawn") out.points = drawn;
  return out;
}

function fillForm(settings) {
  for (const [key, value] of Object.entries(settings)) {
    const input = $("set-" + key);
    if (input) input.value = value;
  }
}

// The form shows the settings of the game being played (a refused change is undone), except while
// the student draws a new set, which is not a game yet.
function syncForm() {
  if (drawing() && state.settings.dataset !== "drawn") return;
  fillForm(state.settings);
  if (state.settings.dataset === "drawn") drawn = state.settings.points.map((p) => p.slice());
  $("draw").hidden = state.settings.dataset !== "drawn";
}

function drawing() {
  return $("set-dataset").value === "drawn";
}

const recipeOf = (dataset, loss) => options.recipes[dataset === "grid25" ? "grid25" : "ring8"][loss];

async function settingChanged(key) {
  if (!sid) return;
  const settings = readSettings();
  $("recipe").textContent = "";
  const before = state ? state.settings : null;
  const recipe = recipeOf(settings.dataset, settings.loss);
  // A loss brings its recipe; so does a change of data where the trainer's recipe differs (grid25 has its own).
  if (key === "loss" || (key === "dataset" && before &&
      JSON.stringify(recipe) !== JSON.stringify(recipeOf(before.dataset, settings.loss)))) {
    Object.assign(settings, recipe);
    fillForm(recipe);
    $("recipe").textContent = `The trainer's recipe for ${settings.loss} on ${settings.dataset}: ` +
      Object.entries(recipe).map(([k, v]) => `${options.settings[k].label} ${v}`).join(", ") + ".";
  }
  $("draw").hidden = settings.dataset !== "drawn";
  setPlaying(false);
  if (settings.dataset === "drawn" && drawn.length === 0) {
    showError("the drawn set has no points yet: click on the plot to draw some, then press " +
      "“train on the drawn points” (the game shown is still the last one).");
    draw();
    return;
  }
  await act(`session/${sid}/settings`, { settings });
}

// ---- controls

function setPlaying(on) {
  if (on === playing) return;
  playing = on;
  $("play").textContent = on ? "❚❚ pause" : "▶ play";
  generation += 1;
  if (on) {
    rate = { t: performance.now(), iterations: state ? state.iterations : 0 };
    loop(generation);
  }
}

async function loop(mine) {
  while (playing && mine === generation) {
    const t0 = performance.now();
    const ok = await act(`session/${sid}/step`, { kind: "iteration", count: Number($("speed").value) });
    if (ok && state) {
      const seconds = (performance.now() - rate.t) / 1000;
      if (seconds > 0.5) {
        const r = (state.iterations - rate.iterations) / seconds;
        $("rate").textContent = r.toFixed(1);
        document.body.dataset.rate = r.toFixed(2);
      }
    }
    const wait = Math.max(0, FRAME_MS - (performance.now() - t0));
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function wireControls() {
  $("play").addEventListener("click", () => setPlaying(!playing));
  $("iteration").addEventListener("click", () => act(`session/${sid}/step`, { kind: "iteration", count: 1 }));
  $("d-step").addEventListener("click", () => act(`session/${sid}/step`, { kind: "d", count: 1 }));
  $("g-step").addEventListener("click", () => act(`session/${sid}/step`, { kind: "g", count: 1 }));
  $("reset").addEventListener("click", () => { setPlaying(false); act(`session/${sid}/reset`, {}); });
  $("data").addEventListener("click", addPoint);
  $("train-drawn").addEventListener("click", () => {
    if (drawn.length === 0) { showError("the drawn set has no points yet: click on the plot to draw some."); return; }
    setPlaying(false);
    act(`session/${sid}/settings`, { settings: readSettings() });
  });
  $("clear-drawn").addEventListener("click", () => { setPlaying(false); drawn = []; draw(); });
  for (const id of ["show-field", "show-real", "show-fake", "show-arrows"]) $(id).addEventListener("change", draw);
  window.addEventListener("pagehide", () => {
    if (sid) fetch(`/api/session/${sid}/close`, { method: "POST", keepalive: true,
      headers: { "Content-Type": "application/json" }, body: "{}" });
  });
}

function addPoint(event) {
  if (!drawing()) return;
  const canvas = $("data"), rect = canvas.getBoundingClientRect();
  const box = options.drawn_box;
  const x = -box + 2 * box * (event.clientX - rect.left) / rect.width;
  const y = box - 2 * box * (event.clientY - rect.top) / rect.height;
  if (drawn.length < options.max_points) drawn.push([Number(x.toFixed(3)), Number(y.toFixed(3))]);
  draw();
}

// The source of what the buttons run, as text (never as HTML).
const CODE_TITLES = { train_step: "one iteration", d_step: "one D step", g_step: "one G step",
                      d_loss: "D's loss", g_loss: "G's loss" };

function showCode(code) {
  const box = $("code");
  box.replaceChildren();
  for (const [name, part] of Object.entries(code)) {
    const h = document.createElement("h3"), pre = document.createElement("pre");
    h.textContent = `${CODE_TITLES[name] || name}: ${part.where}`;
    pre.textContent = part.source;
    box.append(h, pre);
  }
}

// ---- drawing

function mapper(canvas, box) {
  const [lo, hi] = box, w = canvas.width, h = canvas.height;
  return (p) => [(p[0] - lo) / (hi - lo) * w, (1 - (p[1] - lo) / (hi - lo)) * h];
}

// D's belief in [0, 1] -> a light purple (fake) through white to a light green (real).
function beliefColor(v) {
  const lowC = [196, 160, 224], mid = [248, 248, 248], highC = [150, 212, 150];
  const [a, b, t] = v < 0.5 ? [lowC, mid, v / 0.5] : [mid, highC, (v - 0.5) / 0.5];
  return a.map((c, i) => Math.round(c + (b[i] - c) * t));
}

function normalise(field) {
  if (field.probability) return (v) => v;
  const span = field.max - field.min;
  return span > 0 ? (v) => (v - field.min) / span : () => 0.5;
}

function drawField(ctx, canvas, field) {
  const n = field.n, img = new ImageData(n, n), norm = normalise(field);
  for (let i = 0; i < n; i++) {        // row i of the field is y = lo + i * step: the image's row n-1-i
    for (let j = 0; j < n; j++) {
      const v = field.values[i * n + j];  // null where D is NaN: drawn grey
      const c = v === null ? [170, 170, 170] : beliefColor(Math.min(1, Math.max(0, norm(v))));
      const k = ((n - 1 - i) * n + j) * 4;
      img.data[k] = c[0]; img.data[k + 1] = c[1]; img.data[k + 2] = c[2]; img.data[k + 3] = 255;
    }
  }
  const small = document.createElement("canvas");
  small.width = small.height = n;
  small.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  // Each value is D at a grid point; a cell is centred on it, so the image reaches half a cell past the box.
  const cell = canvas.width / (n - 1);
  ctx.drawImage(small, -cell / 2, -cell / 2, canvas.width + cell, canvas.height + cell);
}

const known = (p) => p[0] !== null && p[1] !== null;  // a diverged G's points come as null

function dots(ctx, points, to, color, r) {
  ctx.fillStyle = color;
  for (const p of points) {
    if (!known(p)) continue;
    const [x, y] = to(p);
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
  }
}

function drawData() {
  const canvas = $("data"), ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  const sketching = drawing();
  const box = state && !(sketching && state.settings.dataset !== "drawn") ? state.box
    : [-options.drawn_box, options.drawn_box];
  const to = mapper(canvas, box);
  if (state && !(sketching && state.settings.dataset !== "drawn")) {
    if ($("show-field").checked) drawField(ctx, canvas, state.field);
    if ($("show-real").checked) dots(ctx, state.real, to, REAL, 2);
    if ($("show-fake").checked) dots(ctx, state.fake, to, FAKE, 2);
    if ($("show-arrows").checked) {
      let longest = 0;
      for (const a of state.arrows) if (known(a)) longest = Math.max(longest, Math.hypot(a[0], a[1]));
      const scale = longest > 0 ? 0.08 * (box[1] - box[0]) / longest : 0;
      ctx.strokeStyle = PULL; ctx.lineWidth = 1;
      ctx.beginPath();
      state.fake.forEach((p, i) => {
        const a = state.arrows[i];
        if (!known(p) || !known(a)) return;
        const [x0, y0] = to(p), [x1, y1] = to([p[0] + scale * a[0], p[1] + scale * a[1]]);
        ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
      });
      ctx.stroke();
    }
  }
  if (sketching) {  // the student's points, as crosses
    ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
    for (const p of drawn) {
      const [x, y] = to(p);
      ctx.beginPath(); ctx.moveTo(x - 4, y); ctx.lineTo(x + 4, y); ctx.moveTo(x, y - 4); ctx.lineTo(x, y + 4); ctx.stroke();
    }
    $("n-drawn").textContent = drawn.length;
  }
  ctx.strokeStyle = "#999"; ctx.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
}

function drawColorbar() {
  const canvas = $("colorbar"), ctx = canvas.getContext("2d"), w = canvas.width;
  ctx.clearRect(0, 0, w, canvas.height);
  if (!state) return;
  const f = state.field;
  for (let x = 0; x < w; x++) {
    const c = beliefColor(x / (w - 1));
    ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
    ctx.fillRect(x, 0, 1, 14);
  }
  const [lo, hi] = f.probability ? ["0", "1"] : fmtPair(f.min, f.max);
  ctx.fillStyle = "#222"; ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "left"; ctx.fillText(lo, 0, 28);
  ctx.textAlign = "right"; ctx.fillText(hi, w, 28);
  ctx.textAlign = "center"; ctx.fillText(f.label + (f.probability ? "" : " (now: low to high)"), w / 2, 28);
}

// The two ends of a range, with digits enough to tell them apart.
function fmtPair(lo, hi) {
  if (lo === null || hi === null) return ["–", "–"];
  const span = Math.abs(hi - lo), big = Math.max(Math.abs(lo), Math.abs(hi));
  if (big >= 1e4 || (span > 0 && span < 1e-6)) return [lo.toExponential(3), hi.toExponential(3)];
  const digits = span > 0 ? Math.min(7, Math.max(2, Math.ceil(-Math.log10(span)) + 1)) : 3;
  return [lo.toFixed(digits), hi.toFixed(digits)];
}

function drawZMap() {
  const canvas = $("zmap"), ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!state) return;
  const to = mapper(canvas, state.box), zm = state.z_map;
  dots(ctx, state.real, to, "rgba(26, 150, 65, 0.25)", 1.5);
  ctx.lineWidth = 1;
  zm.lines.forEach((line, i) => {
    ctx.strokeStyle = zm.kind === "curve" ? FAKE : (i % 2 === 0 ? "rgba(217, 95, 2, 0.8)" : "rgba(44, 123, 182, 0.8)");
    ctx.beginPath();
    let pen = false;
    for (const p of line) {
      if (!known(p)) { pen = false; continue; }
      const [x, y] = to(p);
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
  });
  ctx.strokeStyle = "#999"; ctx.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
  $("zmap-caption").textContent = {
    grid: "How G bends z: the grid of z in [−2, 2]² (orange: z₁ varies, blue: z₂ varies) after G. Faint green: real data.",
    slice: `How G bends z: a grid over z₁, z₂ in [−2, 2] with the other ${state.settings.z_dim - 2} coordinates 0 (a slice of the ${state.settings.z_dim}-D z), after G.`,
    curve: "How G bends z: the curve G(z) for z from −3 to 3 (1-D z). Faint green: real data.",
  }[zm.kind];
}

function chart(id, series, xStride) {
  const canvas = $(id), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const left = 62, bottom = 18, top = 16;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  let lo = Infinity, hi = -Infinity, n = 0;
  for (const s of series) for (const v of s.values) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); n = Math.max(n, s.values.length); }
  ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#444";
  if (n === 0) { ctx.fillText("no steps yet", left, h / 2); return; }
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const X = (i) => left + (w - left - 6) * (n === 1 ? 0.5 : i / (n - 1));
  const Y = (v) => top + (h - top - bottom) * (1 - (v - lo) / (hi - lo));
  ctx.strokeStyle = "#ccc"; ctx.strokeRect(left, top, w - left - 6, h - top - bottom);
  const [loText, hiText] = fmtPair(lo, hi);
  ctx.textAlign = "right"; ctx.fillText(hiText, left - 3, top + 8); ctx.fillText(loText, left - 3, h - bottom);
  ctx.textAlign = "left"; ctx.fillText("0", left, h - 4);
  ctx.textAlign = "right"; ctx.fillText(`${(n - 1) * xStride} steps`, w - 6, h - 4);
  let lx = left + 6;
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 1.2; ctx.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      if (pen) ctx.lineTo(X(i), Y(v)); else ctx.moveTo(X(i), Y(v));
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = s.color; ctx.textAlign = "left"; ctx.fillText(s.name, lx, 11); lx += ctx.measureText(s.name).width + 14;
  }
}

function drawCharts() {
  if (!state) return;
  const h = state.history, prob = state.field.probability;
  chart("losses", [{ name: "D's loss", values: h.d_loss, color: "#d95f02" }, { name: "G's loss", values: h.g_loss, color: "#2c7bb6" }], h.stride);
  chart("outputs", [{ name: prob ? "mean D(x), real" : "mean score D(x), real", values: h.d_real, color: REAL },
                    { name: prob ? "mean D(G(z)), generated" : "mean score D(G(z)), generated", values: h.d_fake, color: FAKE }], h.stride);
  $("outputs-caption").textContent = prob
    ? "Mean D(x) on a real batch and D(G(z)) on a generated one (probabilities) after each step."
    : "Mean critic score on a real batch and on a generated one after each step (raw scores: this loss has no probabilities).";
}

function drawQuality() {
  const dl = $("quality");
  dl.replaceChildren();
  const add = (name, value) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name; dd.textContent = value; dl.append(dt, dd);
  };
  const q = state && state.quality;
  if (!q) return;
  add(`JS divergence, ${q.cells} × ${q.cells} histograms`,
      q.js === null ? "– (G's samples are not finite)" : `${q.js.toFixed(3)} bits`);
  add("the same, for two real samples", `${q.js_real.toFixed(3)} bits`);
  const m = q.modes;
  if (!m) {
    add("modes", `– (${state.settings.dataset} has no countable modes)`);
    return;
  }
  add("modes covered", `${m.modes_covered} of ${m.n_modes}`);
  add("high-quality share", `${(100 * m.high_quality).toFixed(1)}%`);
  add("reverse KL", m.reverse_kl === null ? "∞ (no high-quality sample)" : m.reverse_kl.toFixed(3));
}

function draw() {
  frames += 1;
  document.body.dataset.frames = frames;
  if (state) {
    $("iterations").textContent = state.iterations;
    $("d-steps").textContent = state.d_steps;
    $("g-steps").textContent = state.g_steps;
    document.body.dataset.iterations = state.iterations;
    document.body.dataset.fieldSpread = (state.field.max - state.field.min).toFixed(4);
  }
  drawData();
  drawColorbar();
  drawZMap();
  drawCharts();
  drawQuality();
}

// ---- start

async function start() {
  try {
    options = await api("options");
  } catch (e) {
    showError(e.message);
    return;
  }
  $("backend").textContent = options.backend;
  buildForm();
  if (await act("session", { settings: readSettings() })) {
    sid = state.session;
    document.body.dataset.session = sid;
    wireControls();  // only now: every control needs the session
    // ?speed=N picks iterations per frame (one of the list), ?play=1 starts playing: for links and benchmarks.
    const params = new URLSearchParams(location.search);
    const speed = params.get("speed");
    if ([...$("speed").options].some((o) => o.value === speed)) $("speed").value = speed;
    if (params.get("play") === "1") setPlaying(true);
  }
}

start();
