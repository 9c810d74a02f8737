// Home page: one panel drives the three sprites; each card shows its backend and live speed.
// Everything goes through the element's public API (attributes, methods, bubbling events).

/** The speed slider's stops, slow motion to fast (the element allows up to 16). */
const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16];

const sprites = [...document.querySelectorAll('main nca-canvas')];
const controls = document.getElementById('controls');
const playPause = document.getElementById('play-pause');
const announce = document.getElementById('announce');

const statsOf = (sprite) => document.querySelector(`[data-stats="${sprite.id}"]`);
const part = (sprite, name) => statsOf(sprite)?.querySelector(`[data-${name}]`);
const label = (sprite) => sprite.closest('.card')?.querySelector('h2')?.textContent ?? sprite.id;

function show(sprite, name, text, isError = false) {
  const el = part(sprite, name);
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('error', isError);
}

// ---- Readouts, from the element's events (they bubble: one listener each on document) --------

document.addEventListener('nca-backend', (event) => {
  const { chosen, renderer } = event.detail;
  show(event.target, 'backend', chosen);
  part(event.target, 'backend')?.setAttribute('title', renderer ? `renderer: ${renderer}` : `backend: ${chosen}`);
  announce.textContent = `${label(event.target)}: running on ${chosen}.`;
});

document.addEventListener('nca-load', (event) => {
  show(event.target, 'steps', String(event.target.stepCount));
  if (event.target.paused) show(event.target, 'sps', 'paused');
});

document.addEventListener('nca-step', (event) => {
  const { stepCount, stepsPerSecond } = event.detail;
  // A step that was in flight when the sprite paused still reports; keep saying "paused".
  show(event.target, 'sps', event.target.paused ? 'paused' : String(Math.round(stepsPerSecond)));
  show(event.target, 'steps', String(stepCount));
});

document.addEventListener('nca-error', (event) => {
  // Shown on the page instead of the element's console warning.
  event.preventDefault();
  const { type, cause } = event.detail;
  if (type === 'state') return; // `loop` starts a dead run over by itself
  const message = cause instanceof Error ? cause.message : String(cause);
  show(event.target, 'backend', `${type} error: ${message}`, true);
  show(event.target, 'sps', '–');
  announce.textContent = `${label(event.target)}: ${type} error.`;
});

// ---- Controls ---------------------------------------------------------------------------------

let playing = !matchMedia('(prefers-reduced-motion: reduce)').matches;

function setPlaying(next) {
  playing = next;
  playPause.textContent = playing ? 'Pause' : 'Play';
  for (const sprite of sprites) {
    if (playing) sprite.play();
    else {
      sprite.pause();
      show(sprite, 'sps', 'paused');
      show(sprite, 'steps', String(sprite.stepCount));
    }
  }
}
if (!playing) {
  // Reduced motion: the element does not autoplay; say so on the button instead of pretending.
  playPause.textContent = 'Play';
  for (const sprite of sprites) show(sprite, 'sps', 'paused');
}

playPause.addEventListener('click', () => setPlaying(!playing));

document.getElementById('step').addEventListener('click', async () => {
  if (playing) setPlaying(false);
  await Promise.all(sprites.map((sprite) => sprite.step(1)));
  for (const sprite of sprites) show(sprite, 'steps', String(sprite.stepCount));
});

async function reset(sprite) {
  await sprite.reset();
  show(sprite, 'steps', String(sprite.stepCount));
}
document.getElementById('reset-all').addEventListener('click', () => sprites.forEach(reset));
for (const button of document.querySelectorAll('[data-reset]')) {
  button.addEventListener('click', () => reset(document.getElementById(button.dataset.reset)));
}

const speed = document.getElementById('speed');
const speedOut = document.getElementById('speed-out');
function applySpeed() {
  const value = SPEEDS[Number(speed.value)] ?? 1;
  speedOut.textContent = `${value}×`;
  speed.setAttribute('aria-valuetext', `${value} times`);
  for (const sprite of sprites) sprite.setAttribute('speed', String(value));
}
speed.addEventListener('input', applySpeed);

const brush = document.getElementById('brush');
const brushOut = document.getElementById('brush-out');
brush.addEventListener('input', () => {
  brushOut.textContent = brush.value;
  for (const sprite of sprites) sprite.setAttribute('brush', brush.value);
});

function applyInteraction() {
  const checked = controls.querySelector('input[name="interaction"]:checked');
  if (checked) for (const sprite of sprites) sprite.setAttribute('interaction', checked.value);
}

const backend = document.getElementById('backend');
function applyBackend() {
  for (const sprite of sprites) {
    if ((sprite.getAttribute('backend') ?? 'auto') === backend.value) continue;
    show(sprite, 'backend', `switching to ${backend.value}…`);
    show(sprite, 'sps', '–');
    sprite.setAttribute('backend', backend.value);
  }
}

controls.addEventListener('change', (event) => {
  if (event.target.name === 'interaction') applyInteraction();
  else if (event.target === backend) applyBackend();
});
controls.addEventListener('submit', (event) => event.preventDefault());

// The browser may restore form values (reload, back/forward): make the sprites agree with them.
function applyAll() {
  applySpeed();
  brushOut.textContent = brush.value;
  for (const sprite of sprites) sprite.setAttribute('brush', brush.value);
  applyInteraction();
  applyBackend();
}
applyAll();
window.addEventListener('pageshow', (event) => {
  if (event.persisted) applyAll();
});
