// How a place's state looks on the map: colours for actors, a marker style for each state and
// flag, and the legend that explains them. Pure functions of a GeoJSON feature's properties
// (controlMapGeoJson's), shared by the markers and the legend so the two cannot disagree.
"use strict";
(function () {
  // Paul Tol's "muted" scheme: distinct for the common kinds of colour blindness.
  const PALETTE = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255",
                   "#44AA99", "#999933", "#AA4499"];
  const NOBODY = "#BBBBBB";

  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i += 1) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }

  // Stable, distinct colours: an actor's own `color` when it has one; otherwise the slot its
  // slug hashes to, or the next free one (in slug order), so the same actors always get the
  // same colours and the first nine never share one.
  function assignColors(actors) {
    const colors = new Map();
    const taken = new Set();
    const sorted = [...actors].sort((a, b) => (a.slug < b.slug ? -1 : 1));
    for (const actor of sorted) {
      if (actor.color) { colors.set(actor.slug, actor.color); taken.add(actor.color); }
    }
    for (const actor of sorted) {
      if (colors.has(actor.slug)) continue;
      let slot = hash(actor.slug) % PALETTE.length;
      for (let tries = 0; tries < PALETTE.length && taken.has(PALETTE[slot]); tries += 1) {
        slot = (slot + 1) % PALETTE.length;
      }
      colors.set(actor.slug, PALETTE[slot]);
      taken.add(PALETTE[slot]);
    }
    return colors;
  }

  // HELD / CONTESTED between named parties / ABANDONED (contested, nobody left) / UNKNOWN.
  function stateOf(props) {
    if (props.status === "held") return "held";
    if (props.status === "contested") return props.abandoned ? "abandoned" : "contested";
    return "unknown";
  }

  function flagsOf(props) {
    return ["uncertain", "inferred", "disputed", "assessed"].filter((flag) => props[flag]);
  }

  function colorOf(slug, colors) { return colors.get(slug) || NOBODY; }

  // One look per state; each flag changes one more property, so they combine visibly:
  // uncertain fades the fill, inferred dots the outline, disputed thickens it in black,
  // assessment-only hollows the marker (a ring in the holder's colour).
  function styleOf(props, colors) {
    const state = stateOf(props);
    const holders = props.controllers || [];
    const style = { radius: 7, weight: 1.5, color: "#333", fillOpacity: 0.9, dashArray: null };
    if (state === "held") {
      style.fillColor = colorOf(holders[0], colors);
    } else if (state === "contested") {
      style.fillColor = colorOf(holders[0], colors);
      style.color = holders.length > 1 ? colorOf(holders[1], colors) : "#333";
      style.weight = 4;
      style.dashArray = "4 3";
    } else if (state === "abandoned") {
      style.fillColor = "#FFFFFF";
      style.color = "#555";
      style.weight = 2.5;
      style.dashArray = "4 3";
    } else {
      style.radius = 4;
      style.fillColor = NOBODY;
      style.fillOpacity = 0.6;
      style.color = "#777";
    }
    if (props.uncertain) style.fillOpacity = 0.35;
    if (props.inferred) style.dashArray = "1 3";
    if (props.disputed) { style.color = "#000"; style.weight = 3.5; }
    if (props.assessed) {
      style.color = style.fillColor;
      style.fillColor = "#FFFFFF";
      style.weight = 4;
    }
    return style;
  }

  function swatch(style) {
    const dash = style.dashArray ? ` stroke-dasharray="${style.dashArray}"` : "";
    return `<svg width="22" height="22" aria-hidden="true"><circle cx="11" cy="11" r="${style.radius}"`
      + ` fill="${style.fillColor}" fill-opacity="${style.fillOpacity}" stroke="${style.color}"`
      + ` stroke-width="${style.weight}"${dash}/></svg>`;
  }

  const EXAMPLES = [
    ["held by one side", { status: "held", controllers: ["a"] }],
    ["contested between named parties", { status: "contested", controllers: ["a", "b"] }],
    ["abandoned (left by its holder)", { status: "contested", abandoned: true, controllers: [] }],
    ["unknown", { status: "unknown", controllers: [] }],
    ["uncertain (may not have happened yet that day)", { status: "held", controllers: ["a"], uncertain: true }],
    ["inferred from a first report", { status: "held", controllers: ["a"], inferred: true }],
    ["disputed", { status: "held", controllers: ["a"], disputed: true }],
    ["assessment only", { status: "held", controllers: ["a"], assessed: true }],
  ];

  function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // The actors holding or contesting something on the current map, then the states' key.
  function renderLegend(container, features, colors, names) {
    const present = new Map();
    for (const f of features) {
      (f.properties.controllers || []).forEach((slug, i) => present.set(slug, f.properties.controllerNames[i] || slug));
    }
    const actors = [...present.entries()].sort((a, b) => a[1].localeCompare(b[1]));
    const sample = new Map([["a", "#888888"], ["b", "#444444"]]);
    let html = "<h2>Who holds what</h2>";
    for (const [slug, name] of actors) {
      html += `<div class="legend-row" data-actor="${escape(slug)}">${swatch(styleOf({ status: "held", controllers: [slug] }, colors))}`
        + `<span>${escape(names.get(slug) || name)}</span></div>`;
    }
    if (!actors.length) html += "<p>Nobody holds a place on this map.</p>";
    html += "<h3>States</h3>";
    for (const [label, props] of EXAMPLES) {
      html += `<div class="legend-row">${swatch(styleOf(props, sample))}<span>${escape(label)}</span></div>`;
    }
    html += `<div class="legend-row"><svg width="22" height="22" aria-hidden="true"><circle cx="11" cy="11" r="9" fill="none" stroke="#E66100" stroke-width="3"/></svg>`
      + "<span>changed by later knowledge (known-at view) or in the changes window</span></div>";
    container.innerHTML = html;
  }

  window.Frontline = Object.assign(window.Frontline || {}, {
    PALETTE, assignColors, stateOf, flagsOf, styleOf, renderLegend, escape,
  });
})();
