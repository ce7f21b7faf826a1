"use strict";
// The explorer page of the `dropout` crate. NETWORK (above) holds the network, the state the
// page opens in, and the exact distribution Rust computed. Everything below is plain DOM code;
// the passes mirror the crate's Rust passes operation for operation (tests/explorer.rs checks
// them against Rust in a browser).

// ---------------------------------------------------------------------------------------------
// Arithmetic in the network's scalar type: f32 rounds after every operation, as Rust does.
const F = NETWORK.scalar === "f32" ? Math.fround : (v) => v;

// The error function, ported from the `libm` crate (FreeBSD's s_erf.c) operation for operation,
// so that it gives libm's bits (given the same exp).
const erfWords = new DataView(new ArrayBuffer(8));
function highWord(x) {
  erfWords.setFloat64(0, x);
  return erfWords.getUint32(0);
}
function clearLowWord(x) {
  erfWords.setFloat64(0, x);
  erfWords.setUint32(4, 0);
  return erfWords.getFloat64(0);
}
const [ERX, EFX8] = [8.45062911510467529297e-1, 1.02703333676410069053];
const [PP0, PP1, PP2, PP3, PP4] = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const [QQ1, QQ2, QQ3, QQ4, QQ5] = [3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const [PA0, PA1, PA2, PA3, PA4, PA5, PA6] = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const [QA1, QA2, QA3, QA4, QA5, QA6] = [1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const [RA0, RA1, RA2, RA3, RA4, RA5, RA6, RA7] = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const [SA1, SA2, SA3, SA4, SA5, SA6, SA7, SA8] = [1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const [RB0, RB1, RB2, RB3, RB4, RB5, RB6] = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const [SB1, SB2, SB3, SB4, SB5, SB6, SB7] = [3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

function erfc2(ix, x) {
  if (ix < 0x3ff40000) {
    const s = Math.abs(x) - 1;
    const p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
    const q = 1 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
    return 1 - ERX - p / q;
  }
  x = Math.abs(x);
  const s = 1 / (x * x);
  let r, S;
  if (ix < 0x4006db6d) {
    r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
    S = 1 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
  } else {
    r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
    S = 1 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
  }
  const z = clearLowWord(x);
  return (Math.exp(-z * z - 0.5625) * Math.exp((z - x) * (z + x) + r / S)) / x;
}

function erf(x) {
  let ix = highWord(x);
  const sign = ix >>> 31;
  ix = (ix & 0x7fffffff) >>> 0;
  if (ix >= 0x7ff00000) return 1 - 2 * sign + 1 / x;
  if (ix < 0x3feb0000) {
    if (ix < 0x3e300000) return 0.125 * (8 * x + EFX8 * x);
    const z = x * x;
    const r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    const s = 1 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    return x + x * (r / s);
  }
  const y = ix < 0x40180000 ? 1 - erfc2(ix, x) : 1 - 2.2250738585072014e-308;
  return sign ? -y : y;
}

const SELU_LAMBDA = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

function activate(layer, z) {
  switch (layer.activation) {
    case "selu": {
      const [lambda, scale] = [F(SELU_LAMBDA), F(SELU_LAMBDA * SELU_ALPHA)];
      return z.map((v) => (v > 0 ? F(lambda * v) : F(scale * F(Math.expm1(v)))));
    }
    case "elu": {
      const alpha = F(layer.alpha);
      return z.map((v) => (v > 0 ? v : F(alpha * F(Math.expm1(v)))));
    }
    case "gelu": {
      const [half, rootHalf] = [F(0.5), F(Math.SQRT1_2)];
      return z.map((v) => F(F(v * half) * F(1 + F(erf(F(v * rootHalf))))));
    }
    case "softplus":
      return z.map((v) => (v > F(20) ? v : F(Math.log1p(F(Math.exp(v))))));
    case "silu":
      return z.map((v) => F(v / F(1 + F(Math.exp(-v)))));
    case "relu":
      // NaN stays NaN and −0 stays −0, as in PyTorch.
      return z.map((v) => (v < 0 ? 0 : v));
    case "relu6":
      return z.map((v) => (v < 0 ? 0 : v > 6 ? 6 : v));
    case "hard_sigmoid":
      return z.map((v) => {
        const shifted = F(v + 3);
        return F((shifted < 0 ? 0 : shifted > 6 ? 6 : shifted) / 6);
      });
    case "leaky_relu": {
      const alpha = F(layer.alpha);
      return z.map((v) => (v > 0 ? v : F(alpha * v)));
    }
    case "sigmoid":
      return z.map((v) => F(1 / F(1 + F(Math.exp(-v)))));
    case "tanh":
      return z.map((v) => F(Math.tanh(v)));
    case "softmax": {
      if (z.length === 0) return z;
      let max = z[0];
      for (const v of z) if (v > max) max = v;
      let sum = 0;
      const e = z.map((v) => {
        const x = F(Math.exp(F(v - max)));
        sum = F(sum + x);
        return x;
      });
      return e.map((v) => F(v / sum));
    }
    default:
      return z.slice();
  }
}

// z = W·a + b: the bias first, then the inputs in order.
function affine(layer, a) {
  return layer.bias.map((b, j) => {
    const row = layer.weights[j];
    let z = b;
    for (let k = 0; k < a.length; k++) z = F(z + F(a[k] * row[k]));
    return z;
  });
}

// What the next layer sees from a site: a ⊙ μ · train factor (a dropped unit is 0, or NaN if it
// was not finite), or a · eval factor.
function siteValues(site, a, mask, training) {
  if (site.alpha) {
    // Alpha dropout: kept units scale·a + shift, dropped ones a fixed value; evaluation is the
    // identity.
    if (!training) return a.slice();
    return a.map((v, k) => (mask[k] ? F(F(v * site.scale) + site.shift) : Number.isFinite(v) ? site.dropped : NaN));
  }
  if (training) {
    const factor = F(site.train);
    return a.map((v, k) => (mask[k] ? F(v * factor) : Number.isFinite(v) ? 0 : NaN));
  }
  if (site.eval === 1) return a.slice();
  const factor = F(site.eval);
  return a.map((v) => F(v * factor));
}

const siteOf = new Map(NETWORK.sites.map((site, index) => [site.column, index]));

// Every row of the pass, as Rust's `trace` (training) or `trace_eval` records it.
function trace(x, masks, training) {
  const rows = [];
  let a = x.map(F);
  const pass = (column, name, z, g) => {
    const index = siteOf.get(column);
    const site = NETWORK.sites[index];
    const out = site === undefined ? g.slice() : siteValues(site, g, masks[index], training);
    const mask = site !== undefined && training ? masks[index].slice() : null;
    rows.push({ name, z, g, mask, out });
    return out;
  };
  a = pass(0, "input", null, a);
  NETWORK.layers.forEach((layer, idx) => {
    const z = affine(layer, a);
    a = pass(idx + 1, layer.name, z, activate(layer, z));
  });
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Numbers as `Trace`'s Display writes them: 6 significant digits, trailing zeros removed,
// scientific notation below 1e-4 and from 1e6 up, ties rounded to even (Rust's formatting).

// The exact decimal digits of |v| (no sign) and how many come before the point.
function exactDigits(v) {
  const a = Math.abs(v);
  let text;
  if (a >= 1e21) text = BigInt(a).toString();
  else text = a.toFixed(a >= 1e-4 ? 100 : 0);
  if (a < 1e-4) {
    // Below 1e-4 no tie is possible at six significant digits (see docs/DESIGN.md), so the
    // engine's own rounding serves: take 30 significant digits.
    const [m, e] = a.toExponential(29).split("e");
    const digits = m.replace(".", "");
    return { digits, point: Number(e) + 1 };
  }
  const [whole, frac = ""] = text.split(".");
  return { digits: whole + frac, point: whole.length };
}

// Keeps `keep` digits of `digits`, rounding half to even; returns the new digits and point.
function roundDigits(digits, point, keep) {
  if (keep >= digits.length) return { digits: digits.padEnd(keep, "0"), point };
  if (keep < 0) return { digits: "", point };
  const head = digits.slice(0, keep).split("").map(Number);
  const next = Number(digits[keep] || "0");
  const rest = digits.slice(keep + 1);
  const last = keep > 0 ? head[keep - 1] : 0;
  const up = next > 5 || (next === 5 && (/[1-9]/.test(rest) || last % 2 === 1));
  if (up) {
    let i = keep - 1;
    while (i >= 0 && head[i] === 9) head[i--] = 0;
    if (i >= 0) head[i] += 1;
    else {
      head.unshift(1);
      point += 1;
    }
  }
  return { digits: head.join(""), point };
}

function trimZeros(text) {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

function general(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const sign = v < 0 ? "-" : "";
  const exponent = Math.floor(Math.log10(Math.abs(v)));
  const { digits, point } = exactDigits(v);
  if (exponent >= -4 && exponent < 6) {
    const decimals = 5 - exponent;
    let r = roundDigits(digits, point, point + decimals);
    let d = r.digits;
    let p = r.point;
    if (p <= 0) {
      d = "0".repeat(1 - p) + d;
      p = 1;
    }
    const text = decimals > 0 ? d.slice(0, p) + "." + d.slice(p) : d.slice(0, p);
    return sign + trimZeros(text.replace(/^0+(?=\d)/, ""));
  }
  // Scientific: the first significant digit and five more.
  const first = digits.search(/[1-9]/);
  const r = roundDigits(digits.slice(first), point - first, 6);
  const mantissa = r.digits[0] + "." + r.digits.slice(1, 6);
  return sign + trimZeros(mantissa) + "e" + (r.point - 1);
}

function vector(values) {
  return "(" + values.map(general).join(", ") + ")";
}

function bits(mask) {
  return "(" + mask.map((kept) => (kept ? "1" : "0")).join(", ") + ")";
}

const MAX_WIDTH = 100;
const width = (text) => [...text].length;

function tableWidth(table) {
  const widths = table[0].map((_, col) => Math.max(...table.map((cells) => width(cells[col]))));
  return widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
}

function writeTable(table) {
  const widths = table[0].map((_, col) => Math.max(...table.map((cells) => width(cells[col]))));
  return table
    .map((cells) =>
      cells.map((cell, col) => cell + " ".repeat(widths[col] - width(cell))).join("  ").trimEnd()
    )
    .join("\n");
}

// The text of Rust's `Trace` Display.
function traceText(rows, training) {
  const pass = training ? "training" : "evaluation";
  let text = `${NETWORK.name}, ${pass} pass (${NETWORK.scaling} scaling)\n`;
  const byLayer = [["layer", "z", "g(z)", "μ", "output"]].concat(
    rows.map((row) => [
      row.name,
      row.z === null ? "" : vector(row.z),
      vector(row.g),
      row.mask === null ? "" : bits(row.mask),
      vector(row.out),
    ])
  );
  if (tableWidth(byLayer) <= MAX_WIDTH) {
    text += writeTable(byLayer) + "\n";
  } else {
    const byUnit = [["layer", "unit", "z", "g(z)", "μ", "output"]];
    for (const row of rows) {
      row.g.forEach((g, unit) => {
        byUnit.push([
          unit === 0 ? row.name : "",
          String(unit),
          row.z === null ? "" : general(row.z[unit]),
          general(g),
          row.mask === null ? "" : row.mask[unit] ? "1" : "0",
          general(row.out[unit]),
        ]);
      });
    }
    text += writeTable(byUnit) + "\n";
  }
  const values = vector(rows[rows.length - 1].out);
  const pieces = values.split(", ").map((piece, i, all) => (i < all.length - 1 ? piece + ", " : piece));
  let line = "prediction: ";
  pieces.forEach((piece, idx) => {
    if (idx > 0 && width(line) + width(piece) > MAX_WIDTH) {
      text += line.trimEnd() + "\n";
      line = " ".repeat(13);
    }
    line += piece;
  });
  return text + line + "\n";
}

// ---------------------------------------------------------------------------------------------
// State, and the URL fragment that holds it: x=1,1&masks=11.101&mode=training&seed=1

const state = {
  x: NETWORK.x.slice(),
  masks: NETWORK.masks.map((bits) => [...bits].map((b) => b === "1")),
  training: NETWORK.training,
  seed: NETWORK.seed,
  output: 0,
  samples: [],
};

function parseNumber(text) {
  const t = text.trim().toLowerCase();
  if (t === "nan") return NaN;
  if (t === "inf" || t === "infinity" || t === "+inf") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  return t === "" ? NaN : Number(t);
}

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("x")) {
    const x = params.get("x").split(",").map(parseNumber);
    if (x.length === NETWORK.inputs) state.x = x.map(F);
  }
  if (params.has("masks")) {
    const masks = params.get("masks").split(".");
    if (
      masks.length === state.masks.length &&
      masks.every((bits, i) => bits.length === state.masks[i].length && /^[01]*$/.test(bits))
    ) {
      state.masks = masks.map((bits) => [...bits].map((b) => b === "1"));
    }
  }
  if (params.get("mode") === "training") state.training = true;
  if (params.get("mode") === "evaluation") state.training = false;
  if (params.has("seed") && /^\d+$/.test(params.get("seed"))) state.seed = Number(params.get("seed"));
  if (params.has("output") && /^\d+$/.test(params.get("output"))) {
    state.output = Math.min(Number(params.get("output")), lastLayer().bias.length - 1);
  }
}

function writeFragment() {
  const text = [
    "x=" + state.x.map((v) => String(v)).join(","),
    "masks=" + state.masks.map((m) => m.map((k) => (k ? "1" : "0")).join("")).join("."),
    "mode=" + (state.training ? "training" : "evaluation"),
    "seed=" + state.seed,
    "output=" + state.output,
  ].join("&");
  history.replaceState(null, "", "#" + text);
}

const lastLayer = () => NETWORK.layers[NETWORK.layers.length - 1];

// ---------------------------------------------------------------------------------------------
// The picture, with the geometry of `dropout::diagram`.

const SVG = "http://www.w3.org/2000/svg";
const [COLUMN_GAP, ROW_GAP, RADIUS, MARGIN, HEADER] = [190, 70, 18, 70, 70];
const sizes = [NETWORK.inputs].concat(NETWORK.layers.map((l) => l.bias.length));
const tallest = Math.max(1, ...sizes);

function at(column, unit) {
  const top = HEADER + MARGIN + ROW_GAP + Math.trunc((ROW_GAP * (tallest - sizes[column])) / 2);
  return [MARGIN + COLUMN_GAP * column, top + ROW_GAP * unit];
}

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

const largest = Math.max(
  Number.MIN_VALUE,
  ...NETWORK.layers.flatMap((l) => l.weights.flat().concat(l.bias).map(Math.abs))
);

function weightStyle(w, sourceKept) {
  const strength = Math.min(1, Math.max(0, Math.abs(w) / largest));
  const color = w >= 0 ? "rgb(31,119,180)" : "rgb(214,39,40)";
  const opacity = sourceKept ? 0.25 + 0.6 * strength : 0.08;
  const widthPx = 1 + [0.25, 0.5, 0.75].filter((q) => strength > q).length;
  return { stroke: color, "stroke-opacity": opacity.toFixed(3), "stroke-width": widthPx };
}

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const superscript = (n) => [...String(n)].map((d) => SUPERSCRIPT[Number(d)]).join("");

function kept(column, unit) {
  const index = siteOf.get(column);
  return index === undefined || !state.training || state.masks[index][unit];
}

function drawNetwork() {
  const svg = document.getElementById("network");
  svg.replaceChildren();
  const widthPx = Math.max(300, 2 * MARGIN + COLUMN_GAP * (sizes.length - 1) + 90);
  const heightPx = HEADER + 2 * MARGIN + ROW_GAP * tallest;
  svg.setAttribute("width", widthPx);
  svg.setAttribute("height", heightPx);
  svg.setAttribute("viewBox", `0 0 ${widthPx} ${heightPx}`);
  svg.append(element("text", { x: MARGIN - RADIUS, y: 24, "font-size": 20 }, `${NETWORK.name} (${NETWORK.scaling} scaling)`));
  NETWORK.layers.forEach((layer, idx) => {
    const [bx, by] = [MARGIN + COLUMN_GAP * idx, HEADER + MARGIN / 2];
    layer.weights.forEach((row, neuron) => {
      const [tx, ty] = at(idx + 1, neuron);
      row.forEach((w, input) => {
        const [fx, fy] = at(idx, input);
        const line = element("line", { x1: fx, y1: fy, x2: tx, y2: ty, class: "weight", ...weightStyle(w, kept(idx, input)) });
        line.append(element("title", {}, `w = ${general(w)}`));
        svg.append(line);
      });
      const bias = element("line", { x1: bx, y1: by, x2: tx, y2: ty, class: "weight bias", ...weightStyle(layer.bias[neuron], true) });
      bias.append(element("title", {}, `b = ${general(layer.bias[neuron])} (never dropped)`));
      svg.append(bias);
    });
    const node = element("g", { class: "bias-node" });
    node.append(element("title", {}, "bias: never dropped"));
    node.append(element("rect", { x: bx - 14, y: by - 12, width: 28, height: 24, fill: "rgb(250,245,220)", stroke: "black" }));
    node.append(element("text", { x: bx - 9, y: by + 5, "font-size": 14 }, "+1"));
    svg.append(node);
  });
  sizes.forEach((size, column) => {
    const [x] = at(column, 0);
    const header = column === 0 ? `input (${size})` : `${NETWORK.layers[column - 1].name} (${size}, ${NETWORK.layers[column - 1].activation})`;
    svg.append(element("text", { x: x - RADIUS - 6, y: heightPx - MARGIN / 2 - 10, "font-size": 15 }, header));
    const index = siteOf.get(column);
    if (index !== undefined) {
      const site = NETWORK.sites[index];
      const label = `μ${superscript(column)}${site.alpha ? " alpha" : ""} p = ${site.p}`;
      svg.append(element("text", { x: x - RADIUS - 6, y: heightPx - MARGIN / 2 + 8, "font-size": 14 }, label));
    }
    for (let unit = 0; unit < size; unit++) {
      const [cx, cy] = at(column, unit);
      const on = kept(column, unit);
      const circle = element("circle", {
        cx, cy, r: RADIUS, fill: on ? "rgb(222,235,247)" : "rgb(215,215,215)", stroke: "black", "stroke-width": 2,
        class: "unit" + (index !== undefined ? " site" : "") + (on ? "" : " dropped"),
        "data-column": column, "data-unit": unit,
      });
      const what = index === undefined ? "no dropout site" : `μ${superscript(column)}[${unit}] = ${state.masks[index][unit] ? 1 : 0}: click to toggle`;
      circle.append(element("title", {}, what));
      if (index !== undefined) circle.addEventListener("click", () => toggle(index, unit));
      svg.append(circle);
      if (!on) {
        const d = RADIUS - 4;
        svg.append(element("line", { x1: cx - d, y1: cy - d, x2: cx + d, y2: cy + d, class: "cross" }));
        svg.append(element("line", { x1: cx - d, y1: cy + d, x2: cx + d, y2: cy - d, class: "cross" }));
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The ensemble: the exact distribution of one output over every mask, and Monte Carlo.

// Units of sites with keep < 1, which the enumeration and the sampling vary.
const droppable = NETWORK.sites.flatMap((site, index) =>
  site.keep < 1 ? [...Array(sizes[site.column]).keys()].map((unit) => [index, unit, site.keep]) : []
);

const sameX = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

// The exact distribution at the current x: Rust's when x is the page's own, else enumerated here
// for up to 12 units (4096 passes); null when neither.
function exactDistribution() {
  if (NETWORK.exact !== null && sameX(state.x, NETWORK.x.map(F))) {
    return { atoms: NETWORK.exact.outputs[state.output], mean: NETWORK.exact.mean[state.output], source: "Rust" };
  }
  if (droppable.length > 12) return null;
  const atoms = new Map();
  for (let pattern = 0; pattern < 1 << droppable.length; pattern++) {
    const masks = state.masks.map((m) => m.map(() => true));
    let probability = 1;
    droppable.forEach(([index, unit, keep], bit) => {
      const on = ((pattern >> bit) & 1) === 1;
      probability *= on ? keep : 1 - keep;
      masks[index][unit] = on;
    });
    const rows = trace(state.x, masks, true);
    const y = rows[rows.length - 1].out[state.output];
    atoms.set(y, (atoms.get(y) || 0) + probability);
  }
  const list = [...atoms.entries()].sort((a, b) => a[0] - b[0]);
  return { atoms: list, mean: list.reduce((s, [v, p]) => s + v * p, 0), source: "this page" };
}

function drawHistogram(exact, evalValue) {
  const svg = document.getElementById("histogram");
  svg.replaceChildren();
  const [w, h, pad] = [560, 200, 30];
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const distribution = (exact ? exact.atoms.map((a) => a[0]) : []).concat(state.samples).filter(Number.isFinite);
  const values = Number.isFinite(evalValue) ? distribution.concat([evalValue]) : distribution;
  // Nothing to draw a distribution of (no exact atoms, no samples yet, or only non-finite
  // values): no axis, which would only frame an empty plot.
  if (distribution.length === 0) {
    svg.setAttribute("height", 0);
    return;
  }
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 1, hi + 1];
  const xOf = (v) => pad + ((v - lo) / (hi - lo)) * (w - 2 * pad);
  svg.append(element("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#888" }));
  svg.append(element("text", { x: pad, y: h - 8, "font-size": 11 }, general(lo)));
  svg.append(element("text", { x: w - pad - 40, y: h - 8, "font-size": 11 }, general(hi)));
  if (exact) {
    // One stem per value when there are few, else 40 bins.
    let bars = exact.atoms.filter(([v]) => Number.isFinite(v));
    if (bars.length > 60) {
      const bins = new Array(40).fill(0);
      for (const [v, p] of bars) bins[Math.min(39, Math.floor(((v - lo) / (hi - lo)) * 40))] += p;
      bars = bins.map((p, i) => [lo + ((i + 0.5) * (hi - lo)) / 40, p]);
    }
    const top = Math.max(...bars.map((b) => b[1]));
    for (const [v, p] of bars) {
      const height = (p / top) * (h - 2 * pad - 10);
      const bar = element("rect", { x: xOf(v) - 3, y: h - pad - height, width: 6, height, class: "bar" });
      bar.append(element("title", {}, `${general(v)}: probability ${general(p)}`));
      svg.append(bar);
    }
    svg.append(element("line", { x1: xOf(exact.mean), y1: pad - 10, x2: xOf(exact.mean), y2: h - pad, class: "mean" }));
  }
  svg.append(element("line", { x1: xOf(evalValue), y1: pad - 10, x2: xOf(evalValue), y2: h - pad, class: "eval" }));
  if (state.samples.length > 0) {
    const m = state.samples.reduce((a, b) => a + b, 0) / state.samples.length;
    svg.append(element("line", { x1: xOf(m), y1: pad - 10, x2: xOf(m), y2: h - pad, class: "mc" }));
  }
}

function showEnsemble(evalValue) {
  const outputs = lastLayer().bias.length;
  const choice = document.getElementById("ensemble-choice");
  choice.textContent = outputs > 1 ? `Output ${state.output} of ${outputs} (the address's output=…)` : "";
  const exact = exactDistribution();
  const summary = document.getElementById("exact-summary");
  summary.replaceChildren();
  if (exact) {
    const mean = document.createElement("span");
    mean.id = "exact-mean";
    mean.className = "legend-mean";
    mean.dataset.mean = String(exact.mean);
    mean.textContent = `exact mean ${general(exact.mean)}`;
    summary.append(
      `Every mask of ${droppable.length} droppable units (${2 ** droppable.length} thinned networks, weighted by their probability; computed by ${exact.source}): `,
      mean
    );
  } else {
    summary.append(`${droppable.length} droppable units: too many masks to enumerate here (Monte Carlo only)`);
  }
  const evaluation = document.createElement("span");
  evaluation.className = "legend-eval";
  evaluation.textContent = `evaluation pass ${general(evalValue)}`;
  summary.append("; ", evaluation, ".");
  const mc = document.getElementById("monte-carlo");
  const n = state.samples.length;
  if (n === 0) {
    mc.textContent = "Monte Carlo: sample masks to start an estimate.";
  } else {
    const m = state.samples.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(state.samples.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1)) : NaN;
    mc.className = "legend-mc";
    mc.textContent = `Monte Carlo: ${n} sample${n === 1 ? "" : "s"}, mean ${general(m)}, standard deviation ${general(sd)}`;
  }
  drawHistogram(exact, evalValue);
}

// ---------------------------------------------------------------------------------------------
// Controls.

function toggle(index, unit) {
  state.masks[index][unit] = !state.masks[index][unit];
  state.training = true;
  render();
}

// The masks Rust's `sample_masks` draws for this seed, which the page holds from its first seed on.
const drawOf = (seed) => NETWORK.draws[seed - NETWORK.seed];

function sample() {
  const draw = drawOf(state.seed);
  if (draw === undefined) return;
  state.masks = draw.split(".").map((bits) => [...bits].map((b) => b === "1"));
  state.seed += 1;
  state.training = true;
  const rows = trace(state.x, state.masks, true);
  state.samples.push(rows[rows.length - 1].out[state.output]);
  render();
}

function reset() {
  state.masks = state.masks.map((mask) => mask.map(() => true));
  render();
}

function buildControls() {
  const inputs = document.getElementById("inputs");
  state.x.forEach((v, i) => {
    const field = document.createElement("input");
    field.type = "text";
    field.id = `x${i}`;
    field.setAttribute("aria-label", `x${i}`);
    field.addEventListener("change", () => {
      state.x[i] = F(parseNumber(field.value));
      state.samples = [];
      render();
    });
    const label = document.createElement("label");
    label.append(`x${i} `, field);
    inputs.append(label);
  });
  document.getElementById("mode-training").addEventListener("change", () => {
    state.training = true;
    render();
  });
  document.getElementById("mode-evaluation").addEventListener("change", () => {
    state.training = false;
    render();
  });
  document.getElementById("sample").addEventListener("click", sample);
  document.getElementById("reset").addEventListener("click", reset);
  const scaling =
    NETWORK.scaling === "classic"
      ? "Classic scaling: a training pass keeps units as they are; the evaluation pass multiplies them by keep."
      : "Inverted scaling: a training pass divides kept units by keep; the evaluation pass leaves them as they are.";
  document.getElementById("scaling-note").textContent = scaling;
  document.getElementById("title").textContent = `${NETWORK.name} · dropout explorer`;
  const shape = sizes.join("-");
  document.getElementById("summary").textContent = `${shape}, ${NETWORK.scalar}, ${NETWORK.scaling} scaling, ${NETWORK.sites.length} dropout site${NETWORK.sites.length === 1 ? "" : "s"}.`;
}

function render() {
  state.x.forEach((v, i) => {
    const field = document.getElementById(`x${i}`);
    if (document.activeElement !== field) field.value = general(v);
  });
  document.getElementById("mode-training").checked = state.training;
  document.getElementById("mode-evaluation").checked = !state.training;
  document.getElementById("seed").textContent = String(state.seed);
  const button = document.getElementById("sample");
  button.disabled = drawOf(state.seed) === undefined;
  button.title = button.disabled
    ? NETWORK.draws.length === 0
      ? "this page was written without the rand feature: it holds no draws of masks"
      : `this page holds the masks of seeds ${NETWORK.seed} to ${NETWORK.seed + NETWORK.draws.length - 1}`
    : `the masks sample_masks draws from ChaCha8Rng::seed_from_u64(${state.seed})`;
  const rows = trace(state.x, state.masks, state.training);
  document.getElementById("trace").textContent = traceText(rows, state.training);
  document.getElementById("prediction").textContent = "prediction: " + vector(rows[rows.length - 1].out);
  drawNetwork();
  const evalRows = trace(state.x, state.masks, false);
  showEnsemble(evalRows[evalRows.length - 1].out[state.output]);
  writeFragment();
}

buildControls();
readFragment();
render();
window.addEventListener("hashchange", () => {
  readFragment();
  render();
});
