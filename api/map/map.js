// The control map: who held what on a day (asOf), as believed at a moment of record
// (knownAt), live. Every answer comes from the public GraphQL API (graphql.js); how states
// look is markers.js's. The view lives in the URL, so a link shows the same map.
"use strict";
(function () {
  const F = window.Frontline;
  const DAY_MS = 86400000;
  const PLAY_STEP_MS = 800;
  const LIVE_REDRAW_MS = 500;
  // Past this many places markers are painted on a canvas: 10,000 SVG circles took most of
  // a slider step to paint (bench/map_page.py). SVG below it, where each marker is an
  // element (with its state in data-* attributes, what the browser tests read).
  const CANVAS_ABOVE = 2000;
  const MAX_ACTOR_PAGES = 20; // 2,000 actors for the legend and the filter: enough, bounded

  const MAP_QUERY = `query Map($asOf: DateTime, $knownAt: DateTime, $where: PlaceFilter, $compare: Boolean!) {
    believed: controlMapGeoJson(asOf: $asOf, knownAt: $knownAt, where: $where)
    now: controlMapGeoJson(asOf: $asOf, where: $where) @include(if: $compare)
  }`;
  const SPAN_QUERY = `{ occurrenceSpan { first last } }`;
  const ACTORS_QUERY = `query Actors($after: String) {
    actors(first: 100, after: $after) { nodes { slug name side } pageInfo { hasNextPage endCursor } }
  }`;
  const CHANGES_QUERY = `query Changes($from: DateTime!, $to: DateTime!, $knownAt: DateTime, $where: PlaceFilter) {
    changes(from: $from, to: $to, knownAt: $knownAt, where: $where) {
      place { slug name latitude longitude }
      before { status controllers { slug name } }
      after { status validFrom controllers { slug name } }
    }
  }`;
  const SEARCH_QUERY = `query Find($text: String!) {
    places(first: 10, search: $text) { nodes { slug name aliases governorate latitude longitude } }
  }`;
  const PLACE_QUERY = `query Place($slug: String!, $asOf: DateTime, $knownAt: DateTime) {
    place(ref: $slug) {
      slug name kind governorate aliases latitude longitude
      control(asOf: $asOf, knownAt: $knownAt) {
        status validFrom uncertain inferred disputed assessed abandoned controllers { slug name }
      }
      history(knownAt: $knownAt) {
        status validFrom validTo precision uncertain inferred disputed assessed abandoned
        controllers { slug name }
        evidence { id }
      }
      incidents(first: 25) {
        pageInfo { hasNextPage }
        nodes {
          id kind status occurredAt precision summary fatalities
          sources { outlet channel role speaker quote url publishedAt }
        }
      }
    }
  }`;
  const LIVE_CHANGES = `subscription Changes($after: String) {
    controlChanges(after: $after) { cursor }
  }`;
  const LIVE_LOG = `subscription Log($after: String) { logEntries(after: $after) { cursor } }`;
  const KINDS_QUERY = `{ __type(name: "PlaceKind") { enumValues { name } } }`;

  const $ = (id) => document.getElementById(id);
  const esc = F.escape;
  const view = {
    asOf: null, knownAt: null, place: null, changes: false, window: 24,
    governorate: "", kind: "", actor: "", renderer: "",
  };
  let renderer = null; // chosen at the first map drawn (or by ?renderer=canvas|svg)
  let spanStart = null; // the slider's first and last day (ms, UTC midnight)
  let spanEnd = null;
  let lastDay = null; // the last day an incident began on
  const markers = new Map(); // slug -> circle marker (its disputed ring in marker.ring)
  const halos = L.layerGroup(); // rings: changed by later knowledge, or in the changes window
  let lastGeoJson = null;
  let renders = 0;
  let playing = null;
  let inFlight = null; // the refresh running, and the one queued behind it
  let queued = null;
  let detailsAsked = 0; // the latest place asked for, and search: older answers are dropped
  let searchAsked = 0;

  // ---- time ---------------------------------------------------------------------------
  const dayOf = (ms) => Math.floor(ms / DAY_MS) * DAY_MS;
  const toInput = (iso) => (iso ? new Date(iso).toISOString().slice(0, 19) : "");
  const fromInput = (value) => (value ? new Date(value + "Z").toISOString() : null);
  // A day step shows the map at the end of that day (UTC): what was so by that evening.
  const endOfDay = (dayMs) => new Date(dayMs + DAY_MS - 1000).toISOString();
  const effectiveAsOf = () => view.asOf || new Date().toISOString();
  // An instant from a link, normalised to ISO with Z; nonsense is dropped (and said so).
  function instant(text, name) {
    if (!text) return null;
    const ms = Date.parse(text);
    if (Number.isFinite(ms) && Math.abs(new Date(ms).getUTCFullYear() - 2000) < 1000) return new Date(ms).toISOString();
    setStatus(`ignored ${name}=${text.slice(0, 40)}: not a date and time`);
    return null;
  }

  // ---- URL -----------------------------------------------------------------------------
  function readUrl(map) {
    const p = new URLSearchParams(location.search);
    view.asOf = instant(p.get("asOf"), "asOf");
    view.knownAt = instant(p.get("knownAt"), "knownAt");
    view.place = p.get("place");
    view.changes = (p.get("layers") || "").split(",").includes("changes");
    view.window = [24, 72, 168, 720].includes(Number(p.get("window"))) ? Number(p.get("window")) : 24;
    view.governorate = p.get("governorate") || "";
    view.kind = p.get("kind") || "";
    view.renderer = ["canvas", "svg"].includes(p.get("renderer")) ? p.get("renderer") : "";
    view.actor = p.get("actor") || "";
    const at = (p.get("at") || "").split(",").map(Number);
    if (at.length === 3 && at.every(Number.isFinite) && Math.abs(at[0]) <= 90 && Math.abs(at[1]) <= 180) {
      map.setView([at[0], at[1]], Math.min(Math.max(Math.round(at[2]), 1), 18));
    }
  }

  function writeUrl(map) {
    const p = new URLSearchParams();
    if (view.asOf) p.set("asOf", view.asOf);
    if (view.knownAt) p.set("knownAt", view.knownAt);
    const c = map.getCenter();
    p.set("at", `${c.lat.toFixed(4)},${c.lng.toFixed(4)},${map.getZoom()}`);
    if (view.changes) { p.set("layers", "changes"); p.set("window", String(view.window)); }
    if (view.place) p.set("place", view.place);
    if (view.governorate) p.set("governorate", view.governorate);
    if (view.kind) p.set("kind", view.kind);
    if (view.actor) p.set("actor", view.actor);
    if (view.renderer) p.set("renderer", view.renderer);
    history.replaceState(null, "", "?" + p.toString());
  }

  function where() {
    const w = {};
    if (view.governorate) w.governorate = view.governorate;
    if (view.kind) w.kinds = [view.kind];
    if (view.actor) w.controller = view.actor;
    return Object.keys(w).length ? w : null;
  }

  // The server's picture of this view. Leaflet's bounds run past ±180° when zoomed out or
  // panned across the antimeridian: clamped to the world, or the whole world when wrapped.
  function svgUrl(map) {
    const b = map.getBounds();
    let [west, east] = [Math.max(b.getWest(), -180), Math.min(b.getEast(), 180)];
    if (!(west < east) || b.getEast() - b.getWest() >= 360) [west, east] = [-180, 180];
    const south = Math.max(b.getSouth(), -85);
    const north = Math.min(b.getNorth(), 85);
    const p = new URLSearchParams({ asOf: effectiveAsOf(),
      bbox: [west, south, east, north].map((v) => v.toFixed(4)).join(",") });
    if (view.knownAt) p.set("knownAt", view.knownAt);
    if (view.governorate) p.set("governorate", view.governorate);
    if (view.kind) p.set("kind", view.kind);
    if (view.actor) p.set("controller", view.actor);
    return "/map.svg?" + p.toString();
  }

  // ---- drawing -------------------------------------------------------------------------
  function signature(props) {
    return [props.status, (props.controllers || []).join(" "), props.abandoned].join("|");
  }

  function mark(marker, props, revised) {
    const el = marker.getElement();
    if (!el) return;
    el.setAttribute("data-slug", props.slug);
    el.setAttribute("data-kind", props.kind);
    el.setAttribute("data-state", F.stateOf(props));
    el.setAttribute("data-controllers", (props.controllers || []).join(" "));
    el.setAttribute("data-flags", F.flagsOf(props).join(" "));
    el.setAttribute("data-revised", revised ? "true" : "false");
  }

  function draw(map, believed, now) {
    const features = believed.features;
    if (!renderer) {
      const canvas = view.renderer ? view.renderer === "canvas" : features.length > CANVAS_ABOVE;
      renderer = canvas ? L.canvas({ padding: 0.5 }) : L.svg();
      document.body.dataset.renderer = canvas ? "canvas" : "svg";
    }
    const current = new Map((now ? now.features : []).map((f) => [f.id, f.properties]));
    const seen = new Set();
    halos.clearLayers();
    for (const feature of features) {
      const props = feature.properties;
      const [lon, lat] = feature.geometry.coordinates;
      const style = F.styleOf(props);
      seen.add(props.slug);
      const revised = Boolean(now) && current.has(props.slug) && signature(current.get(props.slug)) !== signature(props);
      if (revised) {
        halos.addLayer(L.circleMarker([lat, lon], { radius: 12, color: "#E66100", weight: 3, fill: false,
          className: "fl-revised-halo", interactive: false }));
      }
      // Most places keep their state from one day to the next: only those that changed are
      // restyled (10,000 markers restyled took most of a step's time).
      const look = JSON.stringify([style, props.name, props.controllerNames, F.flagsOf(props), revised]);
      let marker = markers.get(props.slug);
      if (!marker) {
        marker = L.circleMarker([lat, lon], { ...style, className: "fl-place", renderer });
        marker.on("click", () => select(map, props.slug));
        marker.bindTooltip("");
        marker.addTo(map);
        markers.set(props.slug, marker);
      } else if (marker.look === look) {
        continue;
      } else {
        marker.setStyle(style);
        marker.setRadius(style.radius);
      }
      marker.look = look;
      if (style.ring && !marker.ring) {
        marker.ring = L.circleMarker([lat, lon], { radius: style.radius + 3.5, color: "#000000", weight: 1.5,
          fill: false, className: "fl-disputed-ring", interactive: false, renderer }).addTo(map);
      } else if (!style.ring && marker.ring) {
        marker.ring.remove();
        marker.ring = null;
      }
      const holders = (props.controllerNames || []).join(", ");
      marker.setTooltipContent(`<b>${esc(props.name)}</b><br>${esc(F.stateOf(props))}${holders ? ": " + esc(holders) : ""}`);
      marker.state = { slug: props.slug, kind: props.kind, state: F.stateOf(props),
        controllers: props.controllers || [], flags: F.flagsOf(props), revised, fill: style.fillColor };
      mark(marker, props, revised);
    }
    for (const [slug, marker] of markers) {
      if (!seen.has(slug)) {
        marker.remove();
        if (marker.ring) marker.ring.remove();
        markers.delete(slug);
      }
    }
    F.renderLegend($("legend"), features);
  }

  // One refresh at a time; a call while one runs queues a single next one (which reads the
  // view when it starts), and resolves when that one has drawn: a caller (play, a test)
  // that awaits it sees its own view drawn, and bursts of calls cost two queries, not N.
  function refresh(map) {
    if (!inFlight) {
      inFlight = redraw(map).finally(() => { inFlight = null; });
      return inFlight;
    }
    if (!queued) {
      queued = inFlight.then(() => { queued = null; return refresh(map); });
    }
    return queued;
  }

  async function redraw(map) {
    const started = performance.now();
    try {
      const data = await F.query(MAP_QUERY, {
        asOf: view.asOf, knownAt: view.knownAt, where: where(), compare: Boolean(view.knownAt),
      });
      const fetched = performance.now();
      lastGeoJson = data.believed;
      draw(map, data.believed, data.now || null);
      document.body.dataset.lastFetchMs = String(Math.round(fetched - started));
      if (view.changes) await drawChanges(map); else clearChanges();
      if (view.place) await details(view.place);
      renders += 1;
      // For the benchmark (bench/map_page.py): since navigation began, and this redraw.
      if (renders === 1) document.body.dataset.firstPaintMs = String(Math.round(performance.now()));
      document.body.dataset.renders = String(renders);
      document.body.dataset.markers = String(markers.size);
      document.body.dataset.lastRenderMs = String(Math.round(performance.now() - started));
      document.body.dataset.asOf = effectiveAsOf();
      document.body.dataset.knownAt = view.knownAt || "";
      setStatus(`${markers.size} places · as of ${effectiveAsOf().slice(0, 16).replace("T", " ")} UTC`
        + (view.knownAt ? ` · as known at ${view.knownAt.slice(0, 16).replace("T", " ")}` : ""));
    } catch (error) {
      setStatus("could not load the map: " + error.message);
    }
    writeUrl(map);
  }

  async function drawChanges(map) {
    const to = effectiveAsOf();
    const from = new Date(Date.parse(to) - view.window * 3600000).toISOString();
    const data = await F.query(CHANGES_QUERY, { from, to, knownAt: view.knownAt, where: where() });
    const section = $("changes");
    const who = (state) => (state && state.controllers.length ? state.controllers.map((a) => esc(a.name)).join(", ")
      : esc(state ? state.status.toLowerCase() : "unknown"));
    document.querySelectorAll("path.fl-place[data-changed]").forEach((el) => el.removeAttribute("data-changed"));
    let html = `<h2>Changed hands in the last ${view.window} h</h2>`;
    for (const change of data.changes) {
      const p = change.place;
      html += `<div class="change" data-slug="${esc(p.slug)}"><b>${esc(p.name)}</b>: ${who(change.before)} → ${who(change.after)}</div>`;
      halos.addLayer(L.circleMarker([p.latitude, p.longitude], { radius: 12, color: "#E66100", weight: 2,
        dashArray: "2 2", fill: false, className: "fl-change-halo", interactive: false }));
      const marker = markers.get(p.slug);
      if (marker && marker.getElement()) marker.getElement().setAttribute("data-changed", "true");
    }
    if (!data.changes.length) html += "<p>No place changed hands.</p>";
    section.innerHTML = html;
    section.hidden = false;
    section.querySelectorAll(".change").forEach((row) => row.addEventListener("click", () => select(map, row.dataset.slug)));
  }

  function clearChanges() {
    $("changes").hidden = true;
    document.querySelectorAll("path.fl-place[data-changed]").forEach((el) => el.removeAttribute("data-changed"));
  }

  // ---- a place's story -------------------------------------------------------------------
  function stateLine(s) {
    if (!s) return "nothing known";
    const who = s.controllers.map((a) => esc(a.name)).join(", ");
    const label = s.status === "CONTESTED" && s.abandoned ? "abandoned" : s.status.toLowerCase();
    const flags = ["uncertain", "inferred", "disputed", "assessed"].filter((f) => s[f]);
    return `${label}${who ? " — " + who : ""}${flags.length ? ` <i>(${flags.join(", ")})</i>` : ""}`;
  }

  function incidentHtml(i) {
    const sources = i.sources.map((s) => {
      const by = [s.speaker, s.outlet].filter(Boolean).map(esc).join(" · ");
      const quote = s.quote ? `<blockquote>${esc(s.quote)}</blockquote>` : "";
      const link = s.url && /^https?:\/\//.test(s.url) ? ` <a href="${esc(s.url)}" rel="noopener noreferrer" target="_blank">link</a>` : "";
      return `<div class="source">${by} <span class="meta">${esc(s.role.toLowerCase())}, ${esc(s.channel.toLowerCase())}</span>${link}${quote}</div>`;
    }).join("");
    return `<div class="incident claim-${esc(i.status.toLowerCase())}" data-incident="${esc(i.id)}">`
      + `<div><b>${esc(i.kind.toLowerCase().replace(/_/g, " "))}</b> · <span class="claim">${esc(i.status.toLowerCase())}</span></div>`
      + `<div class="meta">${esc(i.occurredAt.slice(0, 16).replace("T", " "))} (${esc(i.precision.toLowerCase())})`
      + `${i.fatalities != null ? ` · ${i.fatalities} killed` : ""}</div>`
      + `${i.summary ? `<div>${esc(i.summary)}</div>` : ""}${sources}</div>`;
  }

  async function details(slug) {
    const asked = ++detailsAsked;
    const data = await F.query(PLACE_QUERY, { slug, asOf: view.asOf, knownAt: view.knownAt });
    if (asked !== detailsAsked) return; // another place was asked for meanwhile
    const section = $("details");
    const p = data.place;
    if (!p) { section.hidden = true; return; }
    const control = p.control;
    let html = `<h2 data-place="${esc(p.slug)}">${esc(p.name)}</h2>`
      + `<div class="meta">${esc(p.kind.toLowerCase())}${p.governorate ? " · " + esc(p.governorate) : ""}`
      + `${p.aliases.length ? " · also " + p.aliases.map(esc).join(", ") : ""}</div>`
      + `<p class="holder">${stateLine(control)}${control && control.validFrom ? ` since ${esc(control.validFrom.slice(0, 16).replace("T", " "))}` : ""}</p>`
      + "<h3>Control history</h3><ul class=\"timeline\">";
    for (const s of p.history) {
      html += `<li>${s.validFrom ? esc(s.validFrom.slice(0, 16).replace("T", " ")) : "before any report"}: ${stateLine(s)}`
        + ` <span class="meta">(${s.evidence.length} incident${s.evidence.length === 1 ? "" : "s"})</span></li>`;
    }
    // The incidents as they stand now (their claim status included), even in a known-at view:
    // the timeline above is the one believed then.
    const more = p.incidents.pageInfo.hasNextPage ? "<p class=\"meta\">The latest 25; older ones in the API.</p>" : "";
    html += "</ul><h3>Evidence (incidents here, as recorded now)</h3>"
      + (p.incidents.nodes.map(incidentHtml).join("") || "<p>No incident recorded here.</p>") + more;
    section.innerHTML = html;
    section.hidden = false;
  }

  function select(map, slug) {
    view.place = slug;
    details(slug).then(() => writeUrl(map)).catch((e) => setStatus(e.message));
  }

  function setStatus(text) { $("status").textContent = text; }

  // ---- controls ------------------------------------------------------------------------
  // The slider runs from the first day an incident began on (occurrenceSpan) to today,
  // widened to the asked-for day; a step is the end of that day. Left alone, the map is now.
  function setSlider() {
    const slider = $("as-of-day");
    const at = view.asOf ? dayOf(Date.parse(view.asOf)) : spanEnd;
    spanStart = Math.min(spanStart, at);
    spanEnd = Math.max(spanEnd, at);
    slider.min = "0";
    slider.max = String(Math.round((spanEnd - spanStart) / DAY_MS));
    slider.value = String(Math.round((at - spanStart) / DAY_MS));
    slider.dataset.firstDay = new Date(spanStart).toISOString().slice(0, 10);
    sliderText();
    if (document.activeElement !== $("as-of-exact")) $("as-of-exact").value = toInput(effectiveAsOf());
  }

  function sliderText() {
    const slider = $("as-of-day");
    const day = new Date(spanStart + Number(slider.value) * DAY_MS).toISOString().slice(0, 10);
    slider.setAttribute("aria-valuetext", day);
    slider.title = day;
  }

  function fromSlider() {
    view.asOf = endOfDay(spanStart + Number($("as-of-day").value) * DAY_MS);
    sliderText();
    $("as-of-exact").value = toInput(view.asOf);
  }

  async function loadSpan() {
    const span = (await F.query(SPAN_QUERY)).occurrenceSpan;
    const first = dayOf(span ? Date.parse(span.first) : Date.now());
    const last = dayOf(span ? Date.parse(span.last) : Date.now());
    spanStart = spanStart === null ? first : Math.min(spanStart, first);
    // To today, so "now" is on the slider; play stops at the last day something happened.
    spanEnd = Math.max(spanEnd === null ? 0 : spanEnd, last, dayOf(Date.now()));
    lastDay = last;
  }

  // Replays day by day from the slider's day to the last day something happened (from the
  // first day when already there; on to today when past it). Each
  // step waits for its map to be drawn, so a slow answer slows the replay, never piles up.
  function play(map) {
    const button = $("play");
    if (playing) { playing = null; button.textContent = "▶ Play"; return; }
    const slider = $("as-of-day");
    const last = Math.round((lastDay - spanStart) / DAY_MS);
    const end = Number(slider.value) < last ? last : Number(slider.max);
    if (Number(slider.value) >= end) slider.value = "0";
    button.textContent = "⏸ Pause";
    const run = {};
    playing = run;
    (async () => {
      while (playing === run) {
        fromSlider();
        await refresh(map);
        if (Number(slider.value) >= end) break;
        await new Promise((resolve) => setTimeout(resolve, PLAY_STEP_MS));
        if (playing === run) slider.value = String(Number(slider.value) + 1);
      }
      if (playing === run) { playing = null; button.textContent = "▶ Play"; }
    })();
  }

  async function loadActors() {
    const all = [];
    let after = null;
    for (let page = 0; page < MAX_ACTOR_PAGES; page += 1) {
      const data = await F.query(ACTORS_QUERY, { after });
      all.push(...data.actors.nodes);
      if (!data.actors.pageInfo.hasNextPage) break;
      after = data.actors.pageInfo.endCursor;
    }
    const select = $("f-actor");
    for (const actor of all) select.add(new Option(actor.name, actor.slug));
    select.value = view.actor;
  }

  // The place kinds, as the schema names them (one source: the API's enum).
  async function loadKinds() {
    const kind = $("f-kind");
    const data = await F.query(KINDS_QUERY);
    for (const { name } of data.__type.enumValues) kind.add(new Option(name.toLowerCase().replace("_", " "), name));
    kind.value = view.kind;
  }

  function wire(map) {
    $("f-governorate").value = view.governorate;
    $("l-changes").checked = view.changes;
    $("l-window").value = String(view.window);
    $("known-at").value = toInput(view.knownAt);

    $("as-of-day").addEventListener("input", () => { fromSlider(); refresh(map); });
    $("as-of-exact").addEventListener("change", (e) => { view.asOf = fromInput(e.target.value); setSlider(); refresh(map); });
    $("known-at").addEventListener("change", (e) => { view.knownAt = fromInput(e.target.value); refresh(map); });
    $("known-now").addEventListener("click", () => { view.knownAt = null; $("known-at").value = ""; refresh(map); });
    $("play").addEventListener("click", () => play(map));
    $("l-changes").addEventListener("change", (e) => { view.changes = e.target.checked; refresh(map); });
    $("l-window").addEventListener("change", (e) => { view.window = Number(e.target.value); refresh(map); });
    $("f-governorate").addEventListener("change", (e) => { view.governorate = e.target.value.trim(); refresh(map); });
    $("f-kind").addEventListener("change", (e) => { view.kind = e.target.value; refresh(map); });
    $("f-actor").addEventListener("change", (e) => { view.actor = e.target.value; refresh(map); });
    $("search").addEventListener("input", debounce(() => find(map), 250));
    $("dl-geojson").addEventListener("click", () => download(new Blob([JSON.stringify(lastGeoJson)], { type: "application/geo+json" }), "frontline-map.geojson"));
    $("dl-png").addEventListener("click", () => png(map).catch((e) => setStatus("PNG failed: " + e.message)));
    $("dl-svg").addEventListener("click", () => picture(map).then((blob) => download(blob, "frontline-map.svg"))
      .catch((e) => setStatus("SVG failed: " + e.message)));
    map.on("moveend", () => writeUrl(map));
  }

  async function find(map) {
    const text = $("search").value.trim();
    const list = $("found");
    const asked = ++searchAsked;
    if (!text) { list.innerHTML = ""; return; }
    const data = await F.query(SEARCH_QUERY, { text });
    if (asked !== searchAsked) return; // the user typed on
    list.innerHTML = "";
    for (const p of data.places.nodes) {
      const item = document.createElement("li");
      item.dataset.slug = p.slug;
      item.textContent = p.name + (p.governorate ? ` (${p.governorate})` : "");
      item.addEventListener("click", () => { map.setView([p.latitude, p.longitude], Math.max(map.getZoom(), 9)); select(map, p.slug); });
      list.appendChild(item);
    }
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function download(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // The PNG is the server's own picture of this view (/map.svg) drawn onto a canvas.
  // Fetched (not linked) so that a key goes with it when reads are closed.
  async function picture(map) {
    const size = map.getSize();
    const clamp = (n) => Math.min(Math.max(Math.round(n), 100), 4000);
    const url = svgUrl(map) + `&width=${clamp(size.x)}&height=${clamp(size.y)}`;
    const response = await fetch(url, { headers: F.key() ? { Authorization: "Bearer " + F.key() } : {} });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return response.blob();
  }

  async function png(map) {
    const image = new Image();
    const objectUrl = URL.createObjectURL(await picture(map));
    await new Promise((resolve, reject) => { image.onload = resolve; image.onerror = reject; image.src = objectUrl; });
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext("2d").drawImage(image, 0, 0);
    URL.revokeObjectURL(objectUrl);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    download(blob, "frontline-map.png");
  }

  // Live: hand-overs (controlChanges) and every other entry of the log (logEntries: a late
  // report, a correction of the past, an incident that changes no holder) each make the
  // page redraw, at most twice a second however fast they come. Each (re)connection redraws
  // too, so nothing recorded while the socket was away or opening is missed.
  function live(map) {
    const redrawSoon = throttle(() => {
      loadSpan().then(setSlider).catch(() => {});
      refresh(map);
    }, LIVE_REDRAW_MS);
    const follow = (id, query, field) => ({
      id, query, variablesFor: (cursor) => ({ after: cursor }),
      onData: (data) => { redrawSoon(); return data[field].cursor; },
    });
    F.subscribe([
      follow("changes", LIVE_CHANGES, "controlChanges"),
      follow("log", LIVE_LOG, "logEntries"),
    ], (state) => {
      document.body.dataset.live = state;
      if (state === "live") redrawSoon();
    });
  }

  // fn at once, then at most once every ms while calls keep coming (the last one included).
  function throttle(fn, ms) {
    let last = 0;
    let timer = null;
    return () => {
      const wait = last + ms - Date.now();
      if (wait <= 0) { last = Date.now(); fn(); return; }
      if (!timer) timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
    };
  }

  async function start() {
    const map = L.map("map", { preferCanvas: false, worldCopyJump: true }).setView([35.0, 38.5], 7);
    map.attributionControl.setPrefix(false);
    halos.addTo(map);
    readUrl(map);
    if (F.config.tileUrl) {
      L.tileLayer(F.config.tileUrl, { maxZoom: 18, attribution: "tiles: " + new URL(F.config.tileUrl.replace("{s}", "a")).host }).addTo(map);
    } else {
      const outlines = await (await fetch("/map/outlines.geojson")).json();
      L.geoJSON(outlines, { interactive: false, style: { color: "#8a8a8a", weight: 1, fillColor: "#f7f5ef", fillOpacity: 1, className: "country" } }).addTo(map);
      map.attributionControl.addAttribution("outlines: countryinfo");
    }
    wire(map);
    try {
      await loadSpan();
      await loadKinds();
      await loadActors();
    } catch (error) {
      spanStart = spanEnd = dayOf(Date.now());
      setStatus(error.message);
    }
    setSlider();
    live(map); // before the first map: what is recorded while it loads redraws it again
    await refresh(map);
    window.Frontline.map = map;
    // What each marker shows, for a canvas (no element to read): the browser tests and the
    // benchmark ask it.
    window.Frontline.markerState = (slug) => (markers.get(slug) ? markers.get(slug).state : null);
  }

  start();
})();
