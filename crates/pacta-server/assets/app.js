// Pacta dashboard: plain JavaScript, no framework, no network beyond this server.
//
// Reads the public read API and two documents of this dashboard, and draws everything:
//   /v1/assessment                        totals, phases, indicators, digest
//   /v1/agreements/{id}                   parties, guarantors, commitments
//   /v1/incidents, /v1/findings, /v1/obligations   (paged by cursor)
//   /dashboard/zones.geojson              the zones, derived ones as display polygons
//   /dashboard/oblasts.geojson            the base layer (© OpenStreetMap contributors, ODbL)
// and, on demand, /v1/findings/{id}/proof, whose inclusion proofs are checked here with
// crypto.subtle (RFC 6962 / RFC 9162 hashing).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAP_WIDTH = 760;
const MAP_HEIGHT = 560;
const STATUS_ORDER = ["confirmed", "provisional", "contested", "dismissed"];
const STATUS_COLOURS = {
  provisional: "#c98a00", contested: "#7c3aed", confirmed: "#c62828", dismissed: "#9aa3ad",
};
const PARTY_COLOURS = ["#1f6fd1", "#d9730d"];
const UNATTRIBUTED_COLOUR = "#6b7280";
const OBLIGATION_ORDER = { overdue: 0, open: 1, fulfilled_late: 2, fulfilled: 3 };
const SPARK_DAYS = 30;
/** Kilometres per degree of latitude on the engine's sphere (R = 6371.0088 km). */
const KM_PER_DEGREE = 6371.0088 * Math.PI / 180;
const SCALE_BAR_KM = 50;
// The read API's largest page, and the most rows of one list the page loads: a browser
// draws tens of thousands of SVG markers comfortably, not millions.
const PAGE_LIMIT = 1000;
const LIST_ROWS_MAX = 20000;

const app = {
  agreement: null, zones: null, oblasts: null, assessment: null,
  incidentsById: new Map(), findingsByIncident: new Map(),
  view: { zoom: 1, panX: 0, panY: 0 }, colourBy: "status", hiddenZones: new Set(),
  truncated: [],
};

// ---------- small DOM helpers ----------

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(value, label) {
  return el("span", { class: `badge ${value}` }, label || String(value).replace(/_/g, " "));
}

/** "2026-03-05T14:00:00Z" -> "2026-03-05 14:00 UTC" (times are UTC on the wire). */
function when(time) {
  if (!time) return "—";
  return `${time.slice(0, 10)} ${time.slice(11, 16)} UTC`;
}

function partyName(id) {
  if (!id) return "unattributed";
  return (app.agreement.parties && app.agreement.parties[id]) || id;
}

function partyIndex(id) {
  return Object.keys(app.agreement.parties || {}).indexOf(id);
}

function partyColour(id) {
  const index = partyIndex(id);
  return index >= 0 && index < PARTY_COLOURS.length ? PARTY_COLOURS[index] : UNATTRIBUTED_COLOUR;
}

function partyLabel(id) {
  const index = partyIndex(id);
  const cls = index === 0 ? "party-a" : index === 1 ? "party-b" : "muted";
  return el("span", { class: cls }, partyName(id));
}

function guarantorName(id) {
  return (app.agreement.guarantors && app.agreement.guarantors[id]) || id;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = "";
    try { detail = (await response.json()).detail || ""; } catch (_) { /* not problem+json */ }
    throw new Error(`${url}: HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
  }
  return response.json();
}

function showError(message) {
  const box = $("error");
  box.hidden = false;
  box.textContent = message;
}

// ---------- loading ----------

/** Every row of a paged list, following `next_cursor`, up to LIST_ROWS_MAX. */
async function getAll(path) {
  const items = [];
  let cursor = null;
  do {
    const query = `limit=${PAGE_LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await getJson(`${path}?${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < LIST_ROWS_MAX);
  if (cursor) app.truncated.push(path);
  return items;
}

/** `[{id, name}, ...]` as `{id: name}`. */
function names(list) {
  return Object.fromEntries((list || []).map((item) => [item.id, item.name]));
}

async function main() {
  try {
    const assessment = await getJson("/v1/assessment");
    const [agreement, zones, oblasts, incidents, findings, obligations] = await Promise.all([
      getJson(`/v1/agreements/${encodeURIComponent(assessment.agreement)}`),
      getJson("/dashboard/zones.geojson"),
      getJson("/dashboard/oblasts.geojson"),
      getAll("/v1/incidents"),
      getAll("/v1/findings"),
      getAll("/v1/obligations"),
    ]);
    app.agreement = { ...agreement, parties: names(agreement.parties), guarantors: names(agreement.guarantors) };
    app.zones = zones;
    app.oblasts = oblasts;
    app.assessment = { ...assessment, incidents, findings, obligations };
    for (const incident of incidents) app.incidentsById.set(incident.id, incident);
    for (const finding of findings) {
      if (finding.incident) app.findingsByIncident.set(finding.incident, finding);
    }
  } catch (error) {
    showError(`Could not load the dashboard data: ${error.message}`);
    return;
  }
  if (app.truncated.length) {
    showError(`Showing the first ${LIST_ROWS_MAX} rows of ${app.truncated.join(", ")}; the API pages through all of them.`);
  }
  renderHeader();
  setUpMap();
  renderMap();
  renderTimeline();
  renderPhases();
  renderIndicators();
  renderObligations();
  renderCommitments();
  renderFindings();
  // A link to "#verify=FINDING" opens that finding's proof, so a check can be shared.
  const match = /^#verify=(.+)$/.exec(window.location.hash);
  if (match) openProof(decodeURIComponent(match[1]));
}

// ---------- header ----------

function renderHeader() {
  const a = app.assessment;
  const c = a.counts || {};
  $("title").textContent = app.agreement.title;
  document.title = `${app.agreement.title} — Pacta`;
  $("subtitle").textContent =
    `Agreement ${app.agreement.id}, version ${app.agreement.version}, in force since ` +
    `${when(app.agreement.effective)}. Assessment as of ${when(a.as_of)}` +
    (a.digest ? `, digest ${a.digest.slice(0, 16)}…` : "") + ".";
  const totals = [
    ["Reports", c.reports], ["Incidents", c.incidents],
    ["Findings", c.findings], ["Confirmed", c.findings_confirmed],
    ["Provisional", c.findings_provisional], ["Obligations", c.obligations],
    ["Overdue", c.obligations_overdue],
  ];
  const box = $("totals");
  box.replaceChildren(...totals.map(([label, value]) =>
    el("div", {}, el("dt", {}, label), el("dd", {}, value === undefined ? "—" : value))));
  const level = a.indicators && a.indicators.level;
  if (level) box.append(el("div", {}, el("dt", {}, "Warning level"), el("dd", {}, badge(level))));
}

// ---------- map ----------

/** Equirectangular projection around the centre of the area of interest. */
function makeProjection(bounds) {
  const [west, south, east, north] = bounds;
  const k = Math.cos(((south + north) / 2) * Math.PI / 180);
  const scale = Math.min(MAP_WIDTH / ((east - west) * k), MAP_HEIGHT / (north - south));
  const offsetX = (MAP_WIDTH - (east - west) * k * scale) / 2;
  const offsetY = (MAP_HEIGHT - (north - south) * scale) / 2;
  const project = ([lon, lat]) => [offsetX + (lon - west) * k * scale, offsetY + (north - lat) * scale];
  // Map units per kilometre, for the scale bar (exact along the central parallel).
  project.unitsPerKm = scale / KM_PER_DEGREE;
  return project;
}

function extend(bounds, [lon, lat]) {
  bounds[0] = Math.min(bounds[0], lon); bounds[1] = Math.min(bounds[1], lat);
  bounds[2] = Math.max(bounds[2], lon); bounds[3] = Math.max(bounds[3], lat);
}

function eachCoordinate(geometry, visit) {
  if (!geometry) return;
  const walk = (c) => (typeof c[0] === "number" ? visit(c) : c.forEach(walk));
  walk(geometry.coordinates);
}

/** The map frames the line of contact and the zones derived from it, plus every incident. */
function areaOfInterest() {
  const bounds = [Infinity, Infinity, -Infinity, -Infinity];
  for (const feature of app.zones.features) {
    const p = feature.properties;
    if (p.kind === "line" || p.kind === "within") eachCoordinate(feature.geometry, (c) => extend(bounds, c));
  }
  for (const incident of app.assessment.incidents || []) extend(bounds, [incident.lon, incident.lat]);
  if (!Number.isFinite(bounds[0])) return [22, 44, 40.5, 52.5]; // Ukraine
  const padX = (bounds[2] - bounds[0]) * 0.08 + 0.2;
  const padY = (bounds[3] - bounds[1]) * 0.08 + 0.2;
  return [bounds[0] - padX, bounds[1] - padY, bounds[2] + padX, bounds[3] + padY];
}

function pathData(geometry, project) {
  const ring = (coords, close) =>
    coords.map((c, i) => {
      const [x, y] = project(c);
      return `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
    }).join("") + (close ? "Z" : "");
  switch (geometry && geometry.type) {
    case "Polygon": return geometry.coordinates.map((r) => ring(r, true)).join("");
    case "MultiPolygon": return geometry.coordinates.map((p) => p.map((r) => ring(r, true)).join("")).join("");
    case "LineString": return ring(geometry.coordinates, false);
    case "MultiLineString": return geometry.coordinates.map((l) => ring(l, false)).join("");
    default: return "";
  }
}

/** Where to write a polygon's name: the mean of the vertices of its largest outer ring. */
function labelPoint(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  const ring = polygons.map((p) => p[0]).reduce((a, b) => (b.length > a.length ? b : a));
  const sum = ring.reduce(([x, y], [lon, lat]) => [x + lon, y + lat], [0, 0]);
  return [sum[0] / ring.length, sum[1] / ring.length];
}

/** The CSS class of a zone, from what it is: a party's area, a sector, a buffer, a line. */
function zoneClass(p) {
  if (p.controlled_by) return `zone-control-${partyIndex(p.controlled_by) === 0 ? "a" : "b"}`;
  if (p.sector) return "zone-sector";
  if (p.kind === "line") return "zone-line";
  if (p.kind === "within" && p.within_km <= 20) return "zone-dmz";
  return "zone-exclusion";
}

/** Draw order: areas under buffers under lines; wider buffers under narrower ones. */
function zoneRank(feature) {
  const p = feature.properties;
  if (p.controlled_by) return 0;
  if (p.sector) return 1;
  if (p.kind === "line") return 5;
  if (p.kind === "within") return 4 - Math.min(p.within_km, 1000) / 1000;
  return 2;
}

function setUpMap() {
  app.project = makeProjection(areaOfInterest());
  const map = $("map");
  $("colour-by").addEventListener("change", (event) => {
    app.colourBy = event.target.value;
    renderMap();
  });
  $("zoom-in").addEventListener("click", () => zoomBy(1.5, MAP_WIDTH / 2, MAP_HEIGHT / 2));
  $("zoom-out").addEventListener("click", () => zoomBy(1 / 1.5, MAP_WIDTH / 2, MAP_HEIGHT / 2));
  $("zoom-reset").addEventListener("click", () => {
    app.view = { zoom: 1, panX: 0, panY: 0 };
    applyView();
  });
  map.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [x, y] = mapPoint(event);
    zoomBy(event.deltaY < 0 ? 1.25 : 0.8, x, y);
  }, { passive: false });
  let drag = null;
  map.addEventListener("pointerdown", (event) => {
    if (event.target.classList.contains("finding")) return;
    drag = { x: event.clientX, y: event.clientY, panX: app.view.panX, panY: app.view.panY };
    map.setPointerCapture(event.pointerId);
    map.classList.add("dragging");
  });
  map.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const unit = MAP_WIDTH / map.getBoundingClientRect().width / app.view.zoom;
    app.view.panX = drag.panX - (event.clientX - drag.x) * unit;
    app.view.panY = drag.panY - (event.clientY - drag.y) * unit;
    applyView();
  });
  const endDrag = () => { drag = null; map.classList.remove("dragging"); };
  map.addEventListener("pointerup", endDrag);
  map.addEventListener("pointercancel", endDrag);

  const toggles = $("zone-toggles");
  const features = [...app.zones.features].sort((x, y) => zoneRank(x) - zoneRank(y));
  toggles.replaceChildren(el("span", { class: "muted" }, "Zones:"), ...features.map((feature) => {
    const p = feature.properties;
    const box = el("input", { type: "checkbox", checked: !p.sector, "data-zone": p.id });
    if (p.sector) app.hiddenZones.add(p.id);
    box.addEventListener("change", () => {
      if (box.checked) app.hiddenZones.delete(p.id); else app.hiddenZones.add(p.id);
      renderMap();
    });
    return el("label", { title: p.label }, box, " ", p.id, p.approximate ? " (approx.)" : "");
  }));
}

/** Pointer position in the map's base (unzoomed) coordinates. */
function mapPoint(event) {
  const rect = $("map").getBoundingClientRect();
  const v = viewBox();
  return [v.x + (event.clientX - rect.left) / rect.width * v.w, v.y + (event.clientY - rect.top) / rect.height * v.h];
}

function viewBox() {
  const w = MAP_WIDTH / app.view.zoom;
  const h = MAP_HEIGHT / app.view.zoom;
  return { x: (MAP_WIDTH - w) / 2 + app.view.panX, y: (MAP_HEIGHT - h) / 2 + app.view.panY, w, h };
}

function zoomBy(factor, x, y) {
  const before = viewBox();
  const zoom = Math.min(40, Math.max(1, app.view.zoom * factor));
  const fx = (x - before.x) / before.w;
  const fy = (y - before.y) / before.h;
  app.view.zoom = zoom;
  const w = MAP_WIDTH / zoom;
  const h = MAP_HEIGHT / zoom;
  // Keep the point under the pointer where it was.
  app.view.panX = x - fx * w - (MAP_WIDTH - w) / 2;
  app.view.panY = y - fy * h - (MAP_HEIGHT - h) / 2;
  applyView();
}

function applyView() {
  const v = viewBox();
  $("map").setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  renderPoints();
}

function renderMap() {
  const map = $("map");
  const project = app.project;
  const base = svg("g", { "aria-hidden": "true" });
  for (const feature of app.oblasts.features) {
    base.append(svg("path", { class: "oblast", d: pathData(feature.geometry, project) },
      svg("title", {}, feature.properties.name)));
  }
  for (const feature of app.oblasts.features) {
    const [x, y] = project(labelPoint(feature.geometry));
    base.append(svg("text", { class: "oblast-label", x, y, "text-anchor": "middle" },
      feature.properties.name.replace(/ Oblast$/, "")));
  }
  const zones = svg("g", {});
  const features = [...app.zones.features].sort((x, y) => zoneRank(x) - zoneRank(y));
  for (const feature of features) {
    const p = feature.properties;
    if (app.hiddenZones.has(p.id) || !feature.geometry) continue;
    zones.append(svg("path", { class: `zone ${zoneClass(p)}`, d: pathData(feature.geometry, project), "fill-rule": "evenodd" },
      svg("title", {}, `${p.label}${p.approximate ? " (drawn approximately)" : ""}`)));
  }
  map.replaceChildren(base, zones, svg("g", { id: "points" }), svg("g", { id: "scale-bar" }));
  applyView();
  renderLegend();
}

function findingColour(finding) {
  return app.colourBy === "party" ? partyColour(finding.party) : STATUS_COLOURS[finding.status] || UNATTRIBUTED_COLOUR;
}

/** Incidents and findings; markers keep their size on screen whatever the zoom. */
function renderPoints() {
  const layer = $("points");
  if (!layer) return;
  const unit = 1 / app.view.zoom;
  const nodes = [];
  for (const incident of app.assessment.incidents || []) {
    if (app.findingsByIncident.has(incident.id)) continue;
    const [x, y] = app.project([incident.lon, incident.lat]);
    nodes.push(svg("circle", { class: "incident", cx: x, cy: y, r: 2.5 * unit },
      svg("title", {}, `Incident ${incident.id}: ${incident.kinds.join(", ")}, ${when(incident.start)}, no finding`)));
  }
  const findings = [...(app.assessment.findings || [])]
    .filter((f) => f.location)
    .sort((x, y) => STATUS_ORDER.indexOf(y.status) - STATUS_ORDER.indexOf(x.status));
  for (const finding of findings) {
    const [x, y] = app.project(finding.location);
    const label = `Finding ${finding.id}: ${finding.article || finding.commitment}, ${partyName(finding.party)}, ` +
      `${finding.severity}, ${finding.status}. Press Enter to verify.`;
    const open = () => openProof(finding.id);
    nodes.push(svg("circle", {
      class: "finding", cx: x, cy: y, r: (finding.severity === "grave" ? 6 : 4.5) * unit,
      fill: findingColour(finding), tabindex: 0, role: "button", "aria-label": label,
      onclick: open, onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); } },
    }, svg("title", {}, label)));
  }
  layer.replaceChildren(...nodes);
  renderScaleBar();
}

/** A 50 km bar in the lower left corner, redrawn at each zoom so it stays on screen. */
function renderScaleBar() {
  const v = viewBox();
  const unit = 1 / app.view.zoom;
  const length = SCALE_BAR_KM * app.project.unitsPerKm;
  const x = v.x + 14 * unit;
  const y = v.y + v.h - 14 * unit;
  $("scale-bar").replaceChildren(
    svg("rect", { x: x - 4 * unit, y: y - 16 * unit, width: length + 8 * unit, height: 22 * unit, fill: "#fff", "fill-opacity": 0.8 }),
    svg("path", { d: `M${x} ${y - 4 * unit}V${y}H${x + length}V${y - 4 * unit}`, fill: "none", stroke: "#1b1f24", "stroke-width": 1.5 * unit }),
    svg("text", { x: x + length / 2, y: y - 5 * unit, "text-anchor": "middle", "font-size": 10 * unit, fill: "#1b1f24" }, `${SCALE_BAR_KM} km`));
}

function renderLegend() {
  const items = [];
  const swatch = (style) => el("span", { class: "swatch", style });
  const dot = (colour) => el("span", { class: "swatch", style: `background:${colour};border-radius:50%;width:11px;height:11px` });
  if (app.colourBy === "status") {
    for (const status of STATUS_ORDER) items.push(el("span", {}, dot(STATUS_COLOURS[status]), `finding ${status}`));
  } else {
    for (const party of Object.keys(app.agreement.parties || {})) items.push(el("span", {}, dot(partyColour(party)), partyName(party)));
    items.push(el("span", {}, dot(UNATTRIBUTED_COLOUR), "unattributed"));
  }
  items.push(el("span", {}, dot("rgba(75,85,99,0.55)"), "incident without finding"));
  items.push(el("span", {}, swatch("background:#111827;height:3px;border:0"), "line of contact"));
  items.push(el("span", {}, swatch("background:rgba(245,158,11,0.3);border-color:#b45309"), "demilitarised zone (approx.)"));
  items.push(el("span", {}, swatch("background:rgba(139,92,246,0.15);border:1px dashed #7c3aed"), "exclusion zones (approx.)"));
  for (const party of Object.keys(app.agreement.parties || {})) {
    items.push(el("span", {}, swatch(`background:${partyColour(party)}22`), `area of ${partyName(party)}`));
  }
  $("legend").replaceChildren(...items);
}

// ---------- timeline ----------

function dayOf(time) { return time ? time.slice(0, 10) : null; }

function renderTimeline() {
  const chart = $("timeline");
  const width = 460, height = 190, left = 30, right = 8, top = 8, bottom = 34;
  const findings = (app.assessment.findings || []).filter((f) => f.status !== "dismissed");
  const days = new Map();
  const parties = Object.keys(app.agreement.parties || {});
  for (const finding of findings) {
    const incident = finding.incident && app.incidentsById.get(finding.incident);
    const day = dayOf(incident ? incident.start : finding.established_at);
    if (!days.has(day)) days.set(day, new Map());
    const key = parties.includes(finding.party) ? finding.party : "";
    days.get(day).set(key, (days.get(day).get(key) || 0) + 1);
  }
  const first = dayOf(app.agreement.effective);
  const last = dayOf(app.assessment.as_of);
  const allDays = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`) && allDays.length < 400; t += 86400000) {
    allDays.push(new Date(t).toISOString().slice(0, 10));
  }
  if (allDays.length === 0) { chart.replaceChildren(); return; }
  const totals = allDays.map((d) => [...(days.get(d) || new Map()).values()].reduce((s, n) => s + n, 0));
  // Whole-number ticks, at most five of them, the top one at or above the busiest day.
  const tickStep = Math.max(1, Math.ceil(Math.max(1, ...totals) / 4));
  const max = Math.ceil(Math.max(1, ...totals) / tickStep) * tickStep;
  const step = (width - left - right) / allDays.length;
  const y = (n) => top + (height - top - bottom) * (1 - n / max);
  const nodes = [
    svg("line", { class: "axis", x1: left, y1: y(0), x2: width - right, y2: y(0) }),
    svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: y(0) }),
  ];
  for (let value = 0; value <= max; value += tickStep) {
    nodes.push(svg("text", { x: left - 4, y: y(value) + 3, "text-anchor": "end" }, value));
  }
  allDays.forEach((day, i) => {
    let base = 0;
    const counts = days.get(day) || new Map();
    for (const key of [...parties, ""]) {
      const n = counts.get(key) || 0;
      if (!n) continue;
      const cls = key === parties[0] ? "bar-a" : key === parties[1] ? "bar-b" : "bar-none";
      nodes.push(svg("rect", { class: cls, x: left + i * step + 0.5, y: y(base + n), width: Math.max(1, step - 1), height: y(base) - y(base + n) },
        svg("title", {}, `${day}: ${n} against ${partyName(key || null)}`)));
      base += n;
    }
    if (i % 7 === 0) {
      nodes.push(svg("text", { x: left + i * step, y: height - bottom + 14 }, day.slice(5)));
    }
  });
  const legendY = height - 6;
  [...parties, ""].forEach((key, i) => {
    const cls = key === parties[0] ? "bar-a" : key === parties[1] ? "bar-b" : "bar-none";
    nodes.push(svg("rect", { class: cls, x: left + i * 120, y: legendY - 8, width: 10, height: 8 }));
    nodes.push(svg("text", { x: left + i * 120 + 14, y: legendY }, partyName(key || null)));
  });
  chart.setAttribute("aria-label", `Findings per day from ${first} to ${last}; at most ${max} in a day.`);
  chart.replaceChildren(...nodes);
}

// ---------- phases and indicators ----------

function renderPhases() {
  const list = $("phases");
  list.replaceChildren(...(app.assessment.phases || []).map((phase) => {
    const detail = phase.status === "entered" ? `entered ${when(phase.entered_at)}`
      : phase.status === "snapped_back" ? `snapped back ${when(phase.snapped_back_at)} on finding ${phase.snapback_finding || "—"}`
      : "not yet entered";
    return el("li", { class: phase.status },
      el("strong", {}, phase.title || phase.id), " ", badge(phase.status), " ", el("span", { class: "muted" }, detail),
      phase.waiting_for && phase.waiting_for.length ? el("ul", {}, phase.waiting_for.map((w) => el("li", {}, `waiting for: ${w}`))) : null);
  }));
}

function sparkline(series) {
  const recent = series.slice(-SPARK_DAYS);
  const max = Math.max(1, ...recent.map((d) => d.count));
  const width = 120, height = 22;
  const step = width / SPARK_DAYS;
  return svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `daily counts, at most ${max}` },
    recent.map((d, i) => svg("rect", {
      x: i * step, y: height - (d.count / max) * height, width: Math.max(1, step - 1), height: (d.count / max) * height,
      fill: d.level === "normal" ? "#6b7280" : d.level === "elevated" ? "#c98a00" : d.level === "high" ? "#d9480f" : "#7f1d1d",
    }, svg("title", {}, `${d.date}: ${d.count} (baseline ${d.baseline})`))));
}

function renderIndicators() {
  const sectors = (app.assessment.indicators && app.assessment.indicators.sectors) || [];
  $("indicators").replaceChildren(...sectors.map((s) => {
    const today = s.today;
    return el("tr", {},
      el("td", {}, s.sector),
      el("td", {}, badge(s.level || (today && today.level) || "normal")),
      el("td", {}, today ? `${today.date}: ${today.count} (baseline ${Number(today.baseline).toFixed(1)})` : "—"),
      el("td", {}, sparkline(s.series || [])));
  }));
}

// ---------- obligations ----------

function obligationMatches(o, filter) {
  switch (filter) {
    case "overdue": return o.status === "overdue";
    case "open": return o.status === "open";
    case "acted": return o.status === "fulfilled" || o.status === "fulfilled_late";
    case "escalations": return Boolean(o.escalated_from);
    default: return true;
  }
}

function renderObligations() {
  const obligations = [...(app.assessment.obligations || [])].sort((x, y) =>
    (OBLIGATION_ORDER[x.status] ?? 9) - (OBLIGATION_ORDER[y.status] ?? 9) || x.due_at.localeCompare(y.due_at) || x.id.localeCompare(y.id));
  const perGuarantor = new Map();
  for (const o of obligations) {
    if (!perGuarantor.has(o.guarantor)) perGuarantor.set(o.guarantor, { fulfilled: 0, fulfilled_late: 0, overdue: 0, open: 0 });
    const counts = perGuarantor.get(o.guarantor);
    counts[o.status] = (counts[o.status] || 0) + 1;
  }
  const guarantors = Object.keys(app.agreement.guarantors || {});
  $("guarantor-summary").replaceChildren(...guarantors.map((g) => {
    const c = perGuarantor.get(g) || { fulfilled: 0, fulfilled_late: 0, overdue: 0, open: 0 };
    return el("div", {}, el("strong", {}, guarantorName(g)),
      badge("fulfilled", `${c.fulfilled} in time`), " ", badge("fulfilled_late", `${c.fulfilled_late} late`), " ",
      badge("overdue", `${c.overdue} overdue`), " ", badge("open", `${c.open} open`));
  }));
  const draw = () => {
    const filter = $("obligation-filter").value;
    const rows = obligations.filter((o) => obligationMatches(o, filter)).map((o) => el("tr", {},
      el("td", {}, guarantorName(o.guarantor)),
      el("td", { title: o.description }, el("strong", {}, o.action.replace(/_/g, " "))),
      el("td", {}, `${o.source} ${o.origin}: ${o.trigger}`,
        o.escalated_from ? el("div", {}, "escalated from ", el("span", { class: "mono" }, o.escalated_from)) : null,
        o.findings && o.findings.length ? el("div", { class: "muted" }, `${o.findings.length} finding(s)`) : null),
      el("td", {}, when(o.opened_at)),
      el("td", {}, when(o.due_at)),
      el("td", {}, badge(o.status)),
      el("td", {}, o.acted_at ? when(o.acted_at) : "—", o.fulfilled_by ? el("div", { class: "mono muted" }, o.fulfilled_by) : null)));
    $("obligations").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No obligation matches."))]));
  };
  $("obligation-filter").addEventListener("change", draw);
  draw();
}

// ---------- commitments and findings ----------

function renderCommitments() {
  const counts = new Map();
  for (const f of app.assessment.findings || []) {
    if (!counts.has(f.commitment)) counts.set(f.commitment, {});
    const c = counts.get(f.commitment);
    c[f.status] = (c[f.status] || 0) + 1;
  }
  $("commitments").replaceChildren(...(app.agreement.commitments || []).map((c) => {
    const found = counts.get(c.id) || {};
    const badges = STATUS_ORDER.filter((s) => found[s]).map((s) => [badge(s, `${found[s]} ${s}`), " "]);
    const deadline = c.rule === "obligation" && c.deadline
      ? el("div", { class: "muted" }, `to be verified by ${when(c.deadline)}`) : null;
    return el("tr", {},
      el("td", {}, c.article || c.id, el("div", { class: "mono muted" }, c.id)),
      el("td", { class: "text" }, c.text),
      el("td", {}, c.binds.map((p, i) => [i ? ", " : "", partyLabel(p)])),
      el("td", {}, badges.length ? badges : el("span", { class: "muted" }, "none"), deadline));
  }));
}

function renderFindings() {
  const findings = [...(app.assessment.findings || [])].sort((x, y) => y.established_at.localeCompare(x.established_at) || x.id.localeCompare(y.id));
  $("findings").replaceChildren(...findings.map((f) => el("tr", {},
    el("td", { class: "mono" }, f.id),
    el("td", {}, f.article || f.commitment),
    el("td", {}, partyLabel(f.party)),
    el("td", {}, badge(f.severity)),
    el("td", {}, badge(f.status), f.objection ? el("div", { class: "muted" }, `objection ${f.objection}`) : null,
      f.ruling ? el("div", { class: "muted" }, `ruling ${f.ruling}`) : null),
    el("td", {}, when(f.established_at)),
    el("td", {}, f.reports.length),
    el("td", {}, el("button", { type: "button", onclick: () => openProof(f.id) }, "Verify")))));
}

// ---------- verify this finding ----------

function bytesOf(text) { return new TextEncoder().encode(text); }

function hex(bytes) { return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""); }

function fromBase64(text) {
  const raw = atob(text.trim());
  return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
}

async function sha256(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) { joined.set(part, offset); offset += part.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

const leafHash = (entry) => sha256(Uint8Array.of(0), entry);
const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

/** RFC 9162 section 2.1.3.2: the root an inclusion path leads to, or null if it cannot. */
async function rootFromInclusion(index, size, leaf, path) {
  if (index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

/** A C2SP checkpoint: origin, size, base64 root hash, blank line, signatures. */
function parseCheckpoint(text) {
  const [body, signatures = ""] = text.split("\n\n");
  const lines = body.split("\n");
  if (lines.length < 3 || !/^\d+$/.test(lines[1])) throw new Error("not a C2SP checkpoint");
  return { origin: lines[0], size: Number(lines[1]), root: fromBase64(lines[2]), signatures: signatures.trim().split("\n") };
}

/** A C2SP tlog-proof: header, optional extra, "index N", hashes, blank line, checkpoint. */
function parseTlogProof(text) {
  if (typeof text !== "string") throw new Error("no tlog-proof text");
  const split = text.indexOf("\n\n");
  if (split < 0) throw new Error("the proof has no checkpoint");
  const lines = text.slice(0, split).split("\n");
  if (lines[0] !== "c2sp.org/tlog-proof@v1") throw new Error("not a c2sp.org/tlog-proof@v1 proof");
  let next = 1;
  if (lines[next] && lines[next].startsWith("extra ")) next++;
  const index = /^index (\d+)$/.exec(lines[next] || "");
  if (!index) throw new Error(`proof line ${next + 1}: expected "index N"`);
  return { index: Number(index[1]), hashes: lines.slice(next + 1).map(fromBase64), checkpoint: text.slice(split + 2) };
}

/**
 * One proven entry of a proof bundle: `{index, entry, proof}`, where `entry` is the entry's
 * exact bytes as text and `proof` a C2SP tlog-proof against the bundle's checkpoint.
 */
function proofItem(item) {
  const parsed = parseTlogProof(item.proof);
  let id = `entry ${item.index}`;
  try { id = JSON.parse(item.entry).id || id; } catch (_) { /* the hash check will say what is wrong */ }
  if (parsed.index !== item.index) throw new Error(`entry ${item.index} comes with a proof of entry ${parsed.index}`);
  return { id, entryText: item.entry, index: parsed.index, hashes: parsed.hashes, checkpoint: parsed.checkpoint };
}

async function openProof(findingId) {
  const dialog = $("proof");
  const body = $("proof-body");
  body.replaceChildren(el("p", {}, `Fetching the proof bundle of ${findingId}…`));
  if (!dialog.open) dialog.showModal();
  let bundle;
  try {
    bundle = await getJson(`/v1/findings/${encodeURIComponent(findingId)}/proof`);
  } catch (error) {
    body.replaceChildren(el("p", { class: "check-fail" }, `Could not fetch the proof bundle: ${error.message}`));
    return;
  }
  const finding = bundle.finding || (app.assessment.findings || []).find((f) => f.id === findingId) || { id: findingId };
  const checkpointText = bundle.checkpoint || "";
  const items = [];
  try {
    // The agreement entry proves which agreement text the finding applied.
    items.push({ ...proofItem(bundle.agreement), id: "agreement text (pacta.agreement/1)" });
    items.push(...(bundle.reports || []).map(proofItem));
  } catch (error) {
    body.replaceChildren(el("p", { class: "check-fail" }, `The proof bundle is malformed: ${error.message}`));
    return;
  }
  const rows = items.map((item) => {
    const cell = el("td", {}, "checking…");
    return { item, cell, row: el("tr", {},
      el("td", { class: "mono" }, item.id || "—"),
      el("td", {}, item.index ?? "—"),
      el("td", {}, item.hashes.length),
      cell) };
  });
  body.replaceChildren(
    el("p", {}, el("strong", {}, finding.article || finding.commitment || ""), " ", finding.text || ""),
    el("p", {}, "Finding ", el("span", { class: "mono" }, finding.id), " against ", partyLabel(finding.party), ", ",
      badge(finding.severity || "serious"), " ", badge(finding.status || "provisional")),
    finding.why ? el("p", { class: "muted" }, finding.why) : null,
    finding.objection ? el("p", {}, `Objection ${finding.objection}`,
      finding.ruling ? `; ruling ${finding.ruling}.` : "; the panel has not ruled yet.") : null,
    el("p", {}, `The finding rests on ${(bundle.reports || []).length} report(s). Each is hashed as an RFC 6962 leaf (SHA-256 of 0x00 and the entry's canonical JSON) and its inclusion path is folded up to the root hash of the signed checkpoint below.`),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Report"), el("th", {}, "Log index"), el("th", {}, "Path hashes"), el("th", {}, "Inclusion in this browser"))),
      el("tbody", {}, rows.map((r) => r.row))),
    el("h3", {}, "Checkpoint"),
    el("pre", { class: "note-text" }, checkpointText || "(none in the bundle)"),
    el("p", { class: "note" }, "The checkpoint's Ed25519 signature is checked by `pacta log verify` against the log's public key; this page checks the hashes."),
    el("details", {}, el("summary", {}, "Raw proof bundle (JSON)"), el("pre", { class: "note-text" }, JSON.stringify(bundle, null, 2))));
  for (const { item, cell } of rows) {
    try {
      if (item.checkpoint !== checkpointText) throw new Error("its proof is against another checkpoint than the bundle's");
      const checkpoint = parseCheckpoint(item.checkpoint);
      const leaf = await leafHash(bytesOf(item.entryText));
      const root = await rootFromInclusion(item.index, checkpoint.size, leaf, item.hashes);
      const ok = root !== null && hex(root) === hex(checkpoint.root);
      cell.replaceChildren(ok
        ? el("span", { class: "check-ok" }, `✓ included in tree of size ${checkpoint.size}`)
        : el("span", { class: "check-fail" }, "✗ the path does not lead to the checkpoint's root"),
      el("div", { class: "mono muted" }, `leaf ${hex(leaf).slice(0, 16)}…`));
    } catch (error) {
      cell.replaceChildren(el("span", { class: "check-fail" }, `✗ ${error.message}`));
    }
  }
}

document.addEventListener("DOMContentLoaded", main);
