// How a place's state looks on the map: a marker style for each state and flag, and the
// legend that explains them. Pure functions of a GeoJSON feature's properties
// (controlMapGeoJson's: each holder's colour comes with it, from the server), shared by the
// markers and the legend so the two cannot disagree. The server's picture (api/map/svg.py)
// draws the same key; tests/unit/test_map_key.py holds the two together.
"use strict";
(function () {
  const NOBODY = "#BBBBBB";
  const COLOR = /^#[0-9A-Fa-f]{6}$/;

  // A colour as the server sent it, if it is one ("#RRGGBB"); anything else draws grey, so
  // nothing but a colour ever reaches a style or the legend's markup.
  function safeColor(value) { return typeof value === "string" && COLOR.test(value) ? value : NOBODY; }

  // HELD / CONTESTED between named parties / ABANDONED (contested, nobody left) / UNKNOWN.
  function stateOf(props) {
    if (props.status === "held") return "held";
    if (props.status === "contested") return props.abandoned ? "abandoned" : "contested";
    return "unknown";
  }

  function flagsOf(props) {
    return ["uncertain", "inferred", "disputed", "assessed"].filter((flag) => props[flag]);
  }

  // One look per state; each flag changes properties no other flag touches, so any
  // combination stays visible: uncertain fades the marker, inferred dots its outline,
  // assessment-only hollows it (a ring in the holder's colour), disputed adds a black ring
  // around it (`ring`, drawn as a second circle).
  function styleOf(props) {
    const state = stateOf(props);
    const colors = (props.colors || []).map(safeColor);
    const first = colors[0] || NOBODY;
    const style = { radius: 7, weight: 1.5, color: "#333333", fillColor: first, fillOpacity: 0.9,
                    opacity: 1, dashArray: null, ring: false };
    if (state === "contested") {
      style.color = colors[1] || "#333333";
      style.weight = 4;
      style.dashArray = "4 3";
    } else if (state === "abandoned") {
      style.fillColor = "#FFFFFF";
      style.color = "#555555";
      style.weight = 2.5;
      style.dashArray = "4 3";
    } else if (state === "unknown") {
      style.radius = 4;
      style.fillColor = NOBODY;
      style.fillOpacity = 0.6;
      style.color = "#777777";
    }
    if (props.assessed) {
      style.color = style.fillColor;
      style.fillColor = "#FFFFFF";
      style.weight = 4;
    }
    if (props.inferred) style.dashArray = "1 3";
    if (props.uncertain) { style.fillOpacity = 0.35; style.opacity = 0.5; }
    if (props.disputed) style.ring = true;
    return style;
  }

  function swatch(style) {
    const dash = style.dashArray ? ` stroke-dasharray="${style.dashArray}"` : "";
    const ring = style.ring ? `<circle cx="11" cy="11" r="${style.radius + 3.5}" fill="none" stroke="#000000" stroke-width="1.5"/>` : "";
    return `<svg width="22" height="22" aria-hidden="true"><circle cx="11" cy="11" r="${style.radius}"`
      + ` fill="${safeColor(style.fillColor)}" fill-opacity="${style.fillOpacity}" stroke="${safeColor(style.color)}"`
      + ` stroke-opacity="${style.opacity}" stroke-width="${style.weight}"${dash}/>${ring}</svg>`;
  }

  const A = ["#888888"];
  const AB = ["#888888", "#444444"];
  // The legend's key: one example per state and flag (tests/unit/test_map_key.py reads it).
  const EXAMPLES = [
    ["held by one side", { status: "held", colors: A }],
    ["contested between named parties", { status: "contested", colors: AB }],
    ["abandoned (left by its holder)", { status: "contested", abandoned: true, colors: [] }],
    ["unknown", { status: "unknown", colors: [] }],
    ["uncertain (may not have happened yet that day)", { status: "held", colors: A, uncertain: true }],
    ["inferred from a first report", { status: "held", colors: A, inferred: true }],
    ["disputed", { status: "held", colors: A, disputed: true }],
    ["assessment only", { status: "held", colors: A, assessed: true }],
  ];

  function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // The actors holding or contesting something on the current map, then the states' key.
  function renderLegend(container, features) {
    const present = new Map();
    for (const f of features) {
      const p = f.properties;
      (p.controllers || []).forEach((slug, i) => present.set(slug, [p.controllerNames[i] || slug, (p.colors || [])[i]]));
    }
    const actors = [...present.entries()].sort((a, b) => a[1][0].localeCompare(b[1][0]));
    let html = "<h2>Who holds what</h2>";
    for (const [slug, [name, color]] of actors) {
      html += `<div class="legend-row" data-actor="${escape(slug)}">${swatch(styleOf({ status: "held", colors: [color] }))}`
        + `<span>${escape(name)}</span></div>`;
    }
    if (!actors.length) html += "<p>Nobody holds a place on this map.</p>";
    html += "<h3>States</h3>";
    for (const [label, props] of EXAMPLES) {
      html += `<div class="legend-row">${swatch(styleOf(props))}<span>${escape(label)}</span></div>`;
    }
    html += `<div class="legend-row"><svg width="22" height="22" aria-hidden="true"><circle cx="11" cy="11" r="9" fill="none" stroke="#E66100" stroke-width="3"/></svg>`
      + "<span>changed by later knowledge (known-at view) or in the changes window</span></div>";
    container.innerHTML = html;
  }

  const api = { stateOf, flagsOf, styleOf, renderLegend, escape, safeColor, EXAMPLES };
  if (typeof window !== "undefined") window.Frontline = Object.assign(window.Frontline || {}, api);
  if (typeof module !== "undefined") module.exports = api; // for tests/unit/test_map_key.py (node)
})();
