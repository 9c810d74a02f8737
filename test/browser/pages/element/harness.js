// Test harness for the <nca-canvas> browser tests, loaded as a module file (so it also runs on the
// strict-CSP page). Specs drive it through page.evaluate(() => window.harness...).

/** Every element event, per element id, with a serialisable detail. */
const log = new Map();
const EVENTS = ['nca-load', 'nca-error', 'nca-backend', 'nca-step'];

function describeCause(cause) {
  if (cause === null || typeof cause !== 'object') return { message: String(cause) };
  return {
    name: cause.name,
    message: cause.message,
    code: cause.code,
    status: cause.status,
    problem: cause.problem,
    backend: cause.backend,
    unit: cause.unit,
    size: cause.size,
    limit: cause.limit,
    timeoutMs: cause.timeoutMs,
    skipped: Array.isArray(cause.skipped) ? cause.skipped.map((s) => ({ backend: s.backend, reason: String(s.reason) })) : undefined,
  };
}

function serialise(event) {
  const detail = event.detail ?? {};
  if (event.type === 'nca-error') return { type: detail.type, cause: describeCause(detail.cause) };
  return JSON.parse(JSON.stringify(detail));
}

/** Starts recording an element's events (idempotent). */
function record(el) {
  if (log.has(el.id)) return;
  const entries = [];
  log.set(el.id, entries);
  for (const type of EVENTS) {
    el.addEventListener(type, (event) => entries.push({ type, detail: serialise(event), t: performance.now(), connected: el.isConnected }));
  }
}

let counter = 0;

const harness = {
  /** Creates an element with attributes (optional inline style and children), records its events, appends it. */
  mount(attributes = {}, { style = '', parent = '#stage', append = true, html = '' } = {}) {
    const el = document.createElement('nca-canvas');
    el.id = attributes.id ?? `el${++counter}`;
    if (html) el.innerHTML = html;
    for (const [name, value] of Object.entries(attributes)) if (name !== 'id') el.setAttribute(name, value);
    if (style) el.setAttribute('style', style);
    record(el);
    if (append) document.querySelector(parent).append(el);
    return el.id;
  },
  record(id) {
    record(document.getElementById(id));
  },
  events(id, type) {
    const entries = log.get(id) ?? [];
    return type ? entries.filter((e) => e.type === type) : entries;
  },
  el(id) {
    return document.getElementById(id) ?? harness.detached.get(id);
  },
  /** Elements removed by `remove`, still reachable for checks. */
  detached: new Map(),
  remove(id) {
    const el = document.getElementById(id);
    harness.detached.set(id, el);
    el.remove();
  },
  reinsert(id, parent = '#stage') {
    const el = harness.detached.get(id);
    harness.detached.delete(id);
    document.querySelector(parent).append(el);
  },
  /** Resolves after n animation frames (a condition on time passing, not a fixed sleep). */
  frames(n) {
    return new Promise((resolve) => {
      let left = n;
      const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
      requestAnimationFrame(tick);
    });
  },
  /**
   * Cells with alpha above ~0.1 in the element's current frame, optionally only those whose centre
   * lies within `r` cells of (x, y).
   */
  alive(id, x, y, r) {
    const image = harness.el(id).snapshot();
    if (image === null) return -1;
    let n = 0;
    for (let row = 0; row < image.height; row++) {
      for (let col = 0; col < image.width; col++) {
        if (r !== undefined && Math.hypot(col + 0.5 - x, row + 0.5 - y) >= r) continue;
        if (image.data[(row * image.width + col) * 4 + 3] > 25) n++;
      }
    }
    return n;
  },
  /** RGBA of one cell of the current frame. */
  pixel(id, x, y) {
    const image = harness.el(id).snapshot();
    const i = (y * image.width + x) * 4;
    return Array.from(image.data.slice(i, i + 4));
  },
  /** Client coordinates of the centre of cell (x, y), from the canvas box (object-fit: contain). */
  cellCentre(id, x, y) {
    const el = harness.el(id);
    const canvas = el.shadowRoot.querySelector('canvas');
    const box = canvas.getBoundingClientRect();
    const scale = Math.min(box.width / canvas.width, box.height / canvas.height);
    const left = box.left + (box.width - canvas.width * scale) / 2;
    const top = box.top + (box.height - canvas.height * scale) / 2;
    return { x: left + (x + 0.5) * scale, y: top + (y + 0.5) * scale };
  },
  fallbackVisible(id) {
    const box = harness.el(id).shadowRoot.querySelector('[part=fallback]');
    return box !== null && getComputedStyle(box).display !== 'none';
  },
  canvasVisible(id) {
    const canvas = harness.el(id).shadowRoot.querySelector('canvas');
    return canvas !== null && getComputedStyle(canvas).visibility !== 'hidden';
  },
};

window.harness = harness;
// Elements written in the page's markup are recorded from the start (before the bundle upgrades them).
for (const el of document.querySelectorAll('nca-canvas[id]')) record(el);
