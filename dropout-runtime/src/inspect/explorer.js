"use strict";
// The explorer page of the `dropout` crate. MODULE (above) is the crate's own passes compiled
// to WebAssembly, NETWORK the network and the state the page opens in. The module computes
// every number and every text; this script sends it the learner's actions and draws the view it
// answers (its geometry is `dropout::diagram`'s).

// ---------------------------------------------------------------------------------------------
// The module: one command in, the view (JSON) out.

const bytesOf = (base64) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytesOf(MODULE)), {}).exports;

function send(bytes) {
  const at = wasm.buffer(bytes.length);
  new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);
}

function output() {
  const bytes = new Uint8Array(wasm.memory.buffer, wasm.output(), wasm.output_len());
  return new TextDecoder().decode(bytes);
}

send(bytesOf(NETWORK));
if (wasm.load() !== 1) throw new Error(output());

let view = null;

function command(text) {
  send(new TextEncoder().encode(text));
  wasm.run();
  view = JSON.parse(output());
  return view;
}

// The state in the address: x=1,1&masks=11.101&mode=training&seed=1&output=0
function readFragment() {
  command("fragment " + location.hash);
}

// ---------------------------------------------------------------------------------------------
// The picture.

const SVG = "http://www.w3.org/2000/svg";
const [COLUMN_GAP, ROW_GAP, RADIUS, MARGIN, HEADER] = [190, 70, 18, 70, 70];

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// A weight's line: colour by sign, opacity and width by strength (|w| over the largest).
function weightStyle(weight, on) {
  const color = weight.neg ? "rgb(214,39,40)" : "rgb(31,119,180)";
  const opacity = on ? 0.25 + 0.6 * weight.s : 0.08;
  const widthPx = 1 + [0.25, 0.5, 0.75].filter((q) => weight.s > q).length;
  return { stroke: color, "stroke-opacity": opacity.toFixed(3), "stroke-width": widthPx };
}

function drawNetwork(network) {
  const svg = document.getElementById("network");
  svg.replaceChildren();
  const columns = network.columns;
  const tallest = Math.max(1, ...columns.map((c) => c.units.length));
  const at = (column, unit) => {
    const size = columns[column].units.length;
    const top = HEADER + MARGIN + ROW_GAP + Math.trunc((ROW_GAP * (tallest - size)) / 2);
    return [MARGIN + COLUMN_GAP * column, top + ROW_GAP * unit];
  };
  const widthPx = Math.max(300, 2 * MARGIN + COLUMN_GAP * (columns.length - 1) + 90);
  const heightPx = HEADER + 2 * MARGIN + ROW_GAP * tallest;
  svg.setAttribute("width", widthPx);
  svg.setAttribute("height", heightPx);
  svg.setAttribute("viewBox", `0 0 ${widthPx} ${heightPx}`);
  svg.append(element("text", { x: MARGIN - RADIUS, y: 24, "font-size": 20 }, network.caption));
  network.layers.forEach((layer, idx) => {
    const [bx, by] = [MARGIN + COLUMN_GAP * idx, HEADER + MARGIN / 2];
    layer.weights.forEach((row, neuron) => {
      const [tx, ty] = at(idx + 1, neuron);
      row.forEach((weight, input) => {
        const [fx, fy] = at(idx, input);
        const on = weight.on && columns[idx].units[input].kept;
        const line = element("line", { x1: fx, y1: fy, x2: tx, y2: ty, class: "weight" + (weight.on ? "" : " dropped"), ...weightStyle(weight, on) });
        line.append(element("title", {}, weight.title));
        svg.append(line);
      });
      const bias = layer.bias[neuron];
      const line = element("line", { x1: bx, y1: by, x2: tx, y2: ty, class: "weight bias", ...weightStyle(bias, true) });
      line.append(element("title", {}, bias.title));
      svg.append(line);
    });
    const node = element("g", { class: "bias-node" });
    node.append(element("title", {}, "bias: never dropped"));
    node.append(element("rect", { x: bx - 14, y: by - 12, width: 28, height: 24, fill: "rgb(250,245,220)", stroke: "black" }));
    node.append(element("text", { x: bx - 9, y: by + 5, "font-size": 14 }, "+1"));
    svg.append(node);
    if (layer.dropconnect !== null) {
      const [x] = at(idx + 1, 0);
      svg.append(element("text", { x: x - RADIUS - 6, y: heightPx - MARGIN / 2 + 26, "font-size": 14 }, layer.dropconnect));
    }
  });
  let site = 0;
  columns.forEach((column, c) => {
    const [x] = at(c, 0);
    svg.append(element("text", { x: x - RADIUS - 6, y: heightPx - MARGIN / 2 - 10, "font-size": 15 }, column.header));
    if (column.site !== null) {
      svg.append(element("text", { x: x - RADIUS - 6, y: heightPx - MARGIN / 2 + 8, "font-size": 14 }, column.site));
    }
    const index = column.site === null ? undefined : site++;
    column.units.forEach((unit, u) => {
      const [cx, cy] = at(c, u);
      const circle = element("circle", {
        cx, cy, r: RADIUS, fill: unit.kept ? "rgb(222,235,247)" : "rgb(215,215,215)", stroke: "black", "stroke-width": 2,
        class: "unit" + (unit.clickable ? " site" : "") + (unit.kept ? "" : " dropped"),
        "data-column": c, "data-unit": u,
      });
      circle.append(element("title", {}, unit.title));
      if (unit.clickable) circle.addEventListener("click", () => act(`toggle ${index} ${u}`));
      svg.append(circle);
      if (!unit.kept) {
        const d = RADIUS - 4;
        svg.append(element("line", { x1: cx - d, y1: cy - d, x2: cx + d, y2: cy + d, class: "cross" }));
        svg.append(element("line", { x1: cx - d, y1: cy + d, x2: cx + d, y2: cy - d, class: "cross" }));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The ensemble: the exact distribution of one output over every mask, and Monte Carlo.

function drawHistogram(histogram) {
  const svg = document.getElementById("histogram");
  svg.replaceChildren();
  const [w, h, pad] = [560, 200, 30];
  svg.setAttribute("width", w);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  // Nothing to draw a distribution of: no axis, which would only frame an empty plot.
  if (histogram === null) {
    svg.setAttribute("height", 0);
    return;
  }
  svg.setAttribute("height", h);
  const xOf = (fraction) => pad + fraction * (w - 2 * pad);
  svg.append(element("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#888" }));
  svg.append(element("text", { x: pad, y: h - 8, "font-size": 11 }, histogram.lo));
  svg.append(element("text", { x: w - pad - 40, y: h - 8, "font-size": 11 }, histogram.hi));
  for (const bar of histogram.bars) {
    const height = bar.h * (h - 2 * pad - 10);
    const rect = element("rect", { x: xOf(bar.x) - 3, y: h - pad - height, width: 6, height, class: "bar" });
    rect.append(element("title", {}, bar.title));
    svg.append(rect);
  }
  for (const [at, className] of [[histogram.mean, "mean"], [histogram.eval, "eval"], [histogram.mc, "mc"]]) {
    if (at !== null) svg.append(element("line", { x1: xOf(at), y1: pad - 10, x2: xOf(at), y2: h - pad, class: className }));
  }
}

function showEnsemble(ensemble) {
  document.getElementById("ensemble-choice").textContent = ensemble.choice;
  const summary = document.getElementById("exact-summary");
  summary.replaceChildren(ensemble.exact);
  if (ensemble.mean !== null) {
    const mean = document.createElement("span");
    mean.id = "exact-mean";
    mean.className = "legend-mean";
    mean.dataset.mean = String(ensemble.meanValue);
    mean.textContent = ensemble.mean;
    summary.append(mean);
  }
  const evaluation = document.createElement("span");
  evaluation.className = "legend-eval";
  evaluation.textContent = ensemble.evaluation;
  summary.append("; ", evaluation, ".");
  const mc = document.getElementById("monte-carlo");
  mc.textContent = ensemble.monteCarlo;
  mc.className = ensemble.histogram !== null && ensemble.histogram.mc !== null ? "legend-mc" : "";
  drawHistogram(ensemble.histogram);
}

// ---------------------------------------------------------------------------------------------
// Controls.

function buildControls() {
  const inputs = document.getElementById("inputs");
  view.inputs.forEach((_, i) => {
    const field = document.createElement("input");
    field.type = "text";
    field.id = `x${i}`;
    field.setAttribute("aria-label", `x${i}`);
    field.addEventListener("change", () => act(`input ${i} ${field.value}`));
    const label = document.createElement("label");
    label.append(`x${i} `, field);
    inputs.append(label);
  });
  document.getElementById("mode-training").addEventListener("change", () => act("mode training"));
  document.getElementById("mode-evaluation").addEventListener("change", () => act("mode evaluation"));
  document.getElementById("sample").addEventListener("click", () => act("sample"));
  document.getElementById("reset").addEventListener("click", () => act("reset"));
  document.getElementById("scaling-note").textContent = view.scalingNote;
  document.getElementById("title").textContent = view.title;
  document.getElementById("summary").textContent = view.summary;
}

// Draws the current view and writes its state into the address.
function render() {
  view.inputs.forEach((text, i) => {
    const field = document.getElementById(`x${i}`);
    if (document.activeElement !== field) field.value = text;
  });
  document.getElementById("mode-training").checked = view.training;
  document.getElementById("mode-evaluation").checked = !view.training;
  document.getElementById("seed").textContent = view.seed;
  document.getElementById("sample").title = view.sampleTitle;
  document.getElementById("trace").textContent = view.trace;
  document.getElementById("prediction").textContent = view.prediction;
  drawNetwork(view.network);
  showEnsemble(view.ensemble);
  history.replaceState(null, "", "#" + view.fragment);
}

function act(text) {
  command(text);
  render();
}

command("view");
buildControls();
readFragment();
render();
window.addEventListener("hashchange", () => {
  readFragment();
  render();
});
