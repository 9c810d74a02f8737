// Helpers shared by the demo pages: reading models/gallery.json and formatting what it holds.
// Plain ES module, no build step; every URL is relative to this file (the demo/ folder).

const base = new URL('./', import.meta.url);

/** The last path segment: gallery.json may name files as "x.nca", "models/x.nca" or "demo/models/x.nca". */
function basename(path) {
  return String(path ?? '').split(/[\\/]/).pop() ?? '';
}

/**
 * One gallery.json entry made safe to use: the model file is always looked up in models/, the
 * sprite in sprites/, the no-JavaScript animation (`fallback`) in fallbacks/, the training run in runs/<run>/ (`run` if given, else the file's name
 * without .nca).
 */
export function normalizeEntry(entry) {
  const file = basename(entry.file);
  const slug = file.replace(/\.nca$/i, '');
  const run = basename(entry.run ?? slug);
  return {
    ...entry,
    file,
    slug,
    run,
    name: String(entry.name ?? slug),
    modelHref: `models/${file}`,
    spriteHref: entry.sprite ? `sprites/${basename(entry.sprite)}` : undefined,
    fallbackHref: entry.fallback ? `fallbacks/${basename(entry.fallback)}` : undefined,
    runHref: `runs/${run}/`,
  };
}

/** The gallery's entries (throws with a readable message when the file is missing or malformed). */
export async function loadGallery() {
  const url = new URL('models/gallery.json', base);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`models/gallery.json: HTTP ${response.status}`);
  const list = await response.json();
  if (!Array.isArray(list)) throw new Error('models/gallery.json should hold an array of models');
  return list.filter((entry) => entry && typeof entry.file === 'string').map(normalizeEntry);
}

/** A JSON file under demo/ (e.g. runs/x/summary.json), or undefined when it is not there. */
export async function loadJson(href) {
  const response = await fetch(new URL(href, base));
  if (!response.ok) return undefined;
  return response.json();
}

/** Numbers shown the way a reader wants them: integers as is, others to 4 significant digits. */
export function formatValue(value) {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? String(Number(value.toPrecision(4))) : value.toExponential(3);
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null || value === undefined) return '—';
  return String(value);
}

/**
 * Flattens any JSON value into [label, text] rows: nested objects become "a · b" labels, arrays of
 * plain values one comma-separated row, arrays of objects one group per item (named by its
 * `name` field, else its index). Absolute file paths are cut to their file name.
 */
export function flatten(value, prefix = '') {
  if (value === null || typeof value !== 'object') return [[prefix || 'value', formatLeaf(prefix, value)]];
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) {
      return [[prefix || 'values', value.map(formatValue).join(', ')]];
    }
    return value.flatMap((item, i) => flatten(item, join(prefix, item && typeof item === 'object' && 'name' in item ? String(item.name) : `#${i + 1}`)));
  }
  return Object.entries(value).flatMap(([key, item]) => flatten(item, join(prefix, key)));
}

function join(prefix, key) {
  return prefix ? `${prefix} · ${key}` : key;
}

function formatLeaf(label, value) {
  // A run's summary records where the trainer wrote files; show only the file name, never a machine path.
  if (typeof value === 'string' && /(^|·\s*)path$/.test(label) && /[\\/]/.test(value)) return basename(value);
  return formatValue(value);
}

/** A two-column table from [label, text] rows. */
export function rowsToTable(rows, caption) {
  const table = document.createElement('table');
  table.className = 'scores';
  if (caption) table.createCaption().textContent = caption;
  const body = table.createTBody();
  for (const [label, text] of rows) {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    row.append(th);
    row.insertCell().textContent = text;
  }
  return table;
}

/** A <dl> from [label, text] rows. */
export function rowsToList(rows) {
  const list = document.createElement('dl');
  for (const [label, text] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = text;
    list.append(dt, dd);
  }
  return list;
}

/** Shorthand for document.createElement: `text` sets textContent, every other key an attribute (true: present). */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') el.textContent = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...children.filter((child) => child !== undefined && child !== null));
  return el;
}

/** Shows an error in place of a page's content without throwing further. */
export function showError(container, message) {
  container.replaceChildren(h('p', { class: 'notice', role: 'alert', text: message }));
}
