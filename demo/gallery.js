// Gallery: one entry per model in models/gallery.json, each with its live element. Entries with a
// `reference` field are models published by others (the Distill article's), labelled as such:
// their source and credit instead of a training command and report.
import { flatten, formatValue, h, loadGallery, rowsToList, rowsToTable, showError } from './shared.js';

const container = document.getElementById('gallery');

function entryView(entry) {
  const id = `model-${entry.slug}`;
  const titleId = `${id}-title`;
  const sprite = h(
    'nca-canvas',
    { id, class: 'sprite', src: entry.modelHref, pixelated: true, loop: true, alt: `${entry.name}: live model, bite it with the pointer` },
    entry.fallbackHref || entry.spriteHref
      ? h('img', { slot: 'fallback', src: entry.fallbackHref ?? entry.spriteHref, alt: entry.name })
      : h('span', { slot: 'fallback', text: entry.name }),
  );

  const facts = rowsToList([
    ['task', formatValue(entry.task)],
    ['rule', formatValue(entry.rule)],
    ['seed', formatValue(entry.seed)],
    ...(entry.sprite ? [['sprite', entry.sprite]] : []),
  ]);

  const scores = entry.scores && typeof entry.scores === 'object' ? rowsToTable(flatten(entry.scores), 'Scores (nca eval)') : h('p', { text: 'No scores recorded.' });
  const reference = entry.reference && typeof entry.reference === 'object' ? entry.reference : undefined;

  return h(
    'article',
    { class: 'entry', 'aria-labelledby': titleId, 'data-file': entry.file },
    h('div', {}, sprite, h('p', { class: 'stats', 'data-stats': id, text: 'loading…' })),
    h(
      'div',
      {},
      h('h2', { id: titleId, text: entry.name }),
      entry.placeholder ? h('p', { class: 'notice', text: String(entry.placeholder) }) : undefined,
      reference
        ? h(
            'p',
            { class: 'notice reference' },
            h('strong', { text: 'Reference model, not trained here. ' }),
            `${String(reference.note ?? '')} Source: ${String(reference.source ?? '')}. Credit: ${String(reference.credit ?? '')}.`,
          )
        : undefined,
      facts,
      scores,
      h('h3', { text: reference ? 'Imported with' : 'Trained with' }),
      h('pre', { class: 'command' }, h('code', { text: String(entry.command ?? '(command not recorded)') })),
      h(
        'p',
        {},
        h('a', { href: entry.modelHref, download: entry.file, text: `Download ${entry.file}` }),
        ...(reference ? [] : [' · ', h('a', { href: `report.html?run=${encodeURIComponent(entry.run)}`, text: `Training report of ${entry.name}` })]),
      ),
    ),
  );
}

document.addEventListener('nca-backend', (event) => {
  const stats = document.querySelector(`[data-stats="${event.target.id}"]`);
  if (stats) stats.textContent = `running on ${event.detail.chosen}`;
});
document.addEventListener('nca-step', (event) => {
  const stats = document.querySelector(`[data-stats="${event.target.id}"]`);
  if (stats) stats.textContent = `${event.target.engine?.backend ?? ''} · ${Math.round(event.detail.stepsPerSecond)} steps/s · step ${event.detail.stepCount}`;
});
document.addEventListener('nca-error', (event) => {
  if (event.detail.type === 'state') return; // `loop` restarts it
  event.preventDefault();
  const stats = document.querySelector(`[data-stats="${event.target.id}"]`);
  const cause = event.detail.cause;
  if (stats) stats.textContent = `${event.detail.type} error: ${cause instanceof Error ? cause.message : String(cause)}`;
});

try {
  const entries = await loadGallery();
  container.replaceChildren(
    h('p', { text: `${entries.length} model${entries.length === 1 ? '' : 's'} in models/gallery.json.` }),
    ...entries.map(entryView),
  );
  // The entries did not exist when the browser looked for the URL's #fragment: scroll now.
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
} catch (error) {
  showError(container, `Could not read the gallery: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  container.setAttribute('aria-busy', 'false');
}
