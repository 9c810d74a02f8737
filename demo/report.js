// Training report: a run's loss plot, preview strips and summary.json, picked from gallery.json.
// The run folder is runs/<run>/ (gallery.json's `run`, else the model file's name without .nca).
// Preview strips: gallery.json's optional `previews` (file names inside the run folder), else,
// with `previewEvery` (the --preview-every the run used), preview-<n>.png for every multiple of it
// up to summary.json's `iterations`; else only the final one, preview-<iterations>.png.
import { flatten, h, loadGallery, loadJson, rowsToList, showError } from './shared.js';

const select = document.getElementById('run');
const report = document.getElementById('report');

const pad = (n) => String(n).padStart(6, '0');
const iterationOf = (file) => Number(/preview-(\d+)\.png$/.exec(file)?.[1] ?? NaN);

/** Preview file names, oldest first. */
function previewFiles(entry, summary) {
  if (Array.isArray(entry.previews) && entry.previews.length > 0) return entry.previews.map(String);
  const last = summary?.iterations;
  if (!Number.isInteger(last) || last <= 0) return [];
  const every = Number(entry.previewEvery);
  const iterations = new Set([last]);
  if (Number.isInteger(every) && every > 0) for (let i = every; i < last; i += every) iterations.add(i);
  return [...iterations].sort((a, b) => a - b).map((i) => `preview-${pad(i)}.png`);
}

function strip(entry, file, loading) {
  const iteration = iterationOf(file);
  const when = Number.isFinite(iteration) ? `after ${iteration.toLocaleString('en-US')} iterations` : file;
  return h(
    'figure',
    {},
    h('img', { src: `${entry.runHref}${file}`, loading, alt: `Preview ${when}: the model's run from its start state, frames left to right` }),
    h('figcaption', { class: 'hint', text: `Preview ${when}` }),
  );
}

function previewsView(entry, files) {
  if (files.length === 0) return h('p', { text: 'No preview strips recorded for this run.' });
  const earlier = files.slice(0, -1).reverse();
  return h(
    'div',
    { class: 'strips' },
    strip(entry, files.at(-1), 'eager'),
    earlier.length === 0
      ? undefined
      : h('details', {}, h('summary', { text: `${earlier.length} earlier preview${earlier.length === 1 ? '' : 's'}` }), ...earlier.map((file) => strip(entry, file, 'lazy'))),
  );
}

let shown = 0;

async function show(entry) {
  const token = ++shown;
  report.setAttribute('aria-busy', 'true');
  const summary = await loadJson(`${entry.runHref}summary.json`).catch(() => undefined);
  if (token !== shown) return; // another model was picked meanwhile
  const previews = previewFiles(entry, summary);
  // NOTE: replaceChildren turns an `undefined` argument into the text "undefined" (only h() drops
  // absent children), so the optional parts are filtered out here.
  const parts = [
    h('h2', { text: entry.name }),
    entry.placeholder ? h('p', { class: 'notice', text: String(entry.placeholder) }) : undefined,
    h('p', {}, h('a', { href: `gallery.html#model-${entry.slug}`, text: 'Live model and scores in the gallery' }), ' · ', h('a', { href: `${entry.runHref}summary.json`, text: 'summary.json' })),
    h('h3', { text: 'Loss' }),
    h('img', {
      class: 'plot',
      id: 'loss-plot',
      src: `${entry.runHref}loss.svg`,
      width: 640,
      height: 320,
      alt: `Training loss of ${entry.name} per iteration, on a log scale, with the curriculum level`,
    }),
    h('h3', { text: 'Previews' }),
    previewsView(entry, previews),
    h('h3', { text: 'Summary' }),
    summary === undefined ? h('p', { text: 'No summary.json in this run folder yet.' }) : h('div', { class: 'summary' }, rowsToList(flatten(summary))),
  ];
  report.replaceChildren(...parts.filter((part) => part !== undefined));
  report.setAttribute('aria-busy', 'false');
}

try {
  // Reference models (published by others, `reference` in gallery.json) have no training run here.
  const entries = (await loadGallery()).filter((entry) => !entry.reference);
  if (entries.length === 0) throw new Error('models/gallery.json lists no trained models');
  select.replaceChildren(...entries.map((entry) => h('option', { value: entry.run, text: `${entry.name} (${entry.run})` })));
  select.disabled = false;
  const wanted = new URLSearchParams(location.search).get('run');
  const initial = entries.find((entry) => entry.run === wanted) ?? entries[0];
  select.value = initial.run;
  await show(initial);
  select.addEventListener('change', () => {
    const entry = entries.find((e) => e.run === select.value);
    if (!entry) return;
    const url = new URL(location.href);
    url.searchParams.set('run', entry.run);
    history.replaceState(null, '', url);
    void show(entry);
  });
  document.getElementById('pick').addEventListener('submit', (event) => event.preventDefault());
} catch (error) {
  select.replaceChildren(h('option', { text: 'no models' }));
  showError(report, `Could not read the gallery: ${error instanceof Error ? error.message : String(error)}`);
  report.setAttribute('aria-busy', 'false');
}
