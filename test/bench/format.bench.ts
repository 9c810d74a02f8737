/**
 * Decoder throughput: decodes per second of a valid int8 model (the 8,336-parameter distill
 * model), and MB/s over a fuzz corpus of mutated and random files (most rejected, which is what
 * a page loading a wrong URL sees). Prints a table; asserts nothing.
 *
 *   node --import tsx test/bench/format.bench.ts
 */
import { crc32, createArchitecture, createModel, decodeModel, encodeModel } from '../../runtime/format/index.js';
import { mulberry32 } from '../fixtures/reference-architectures.js';

/** Runs `fn` repeatedly for about `ms` milliseconds (after a short warm-up); returns calls per second. */
function rate(fn: () => void, ms = 1000): { perSecond: number; calls: number } {
  const warmUntil = performance.now() + ms / 5;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return { perSecond: (calls * 1000) / (now - start), calls };
}

function fixHeader(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(12, bytes.length, true);
  view.setUint32(16, crc32(bytes, 20, bytes.length), true);
  return bytes;
}

const random = mulberry32(1);
const model = createModel(createArchitecture({ rule: 'distill', init: 'random', random }), { name: 'bench' });
const files = {
  int8: encodeModel(model, { precision: 'int8', biasPrecision: 'int8' }),
  f16: encodeModel(model, { precision: 'f16', biasPrecision: 'f16' }),
  f32: encodeModel(model),
};

// Corpus: half byte-mutated valid files with the header re-fixed (they reach the chunk parser),
// a quarter mutated without re-fixing (CRC or length rejects them), a quarter random bytes.
const corpus: Uint8Array[] = [];
for (let n = 0; n < 2000; n++) {
  const kind = n % 4;
  if (kind === 3) {
    corpus.push(Uint8Array.from({ length: Math.floor(random() * 4096) }, () => Math.floor(random() * 256)));
    continue;
  }
  const bytes = files.int8.slice();
  for (let e = 0; e < 1 + Math.floor(random() * 4); e++) {
    bytes[20 + Math.floor(random() * (bytes.length - 20))] = Math.floor(random() * 256);
  }
  corpus.push(kind === 2 ? bytes : fixHeader(bytes));
}
const corpusBytes = corpus.reduce((n, b) => n + b.length, 0);
let accepted = 0;
let rejected = 0;
const decodeCorpus = (): void => {
  for (const bytes of corpus) {
    try {
      decodeModel(bytes);
      accepted++;
    } catch {
      rejected++;
    }
  }
};

console.log('format decoder throughput (node ' + process.version + ')\n');
console.log('| input | bytes | decodes/s | MB/s |');
console.log('|---|---:|---:|---:|');
for (const [name, bytes] of Object.entries(files)) {
  const { perSecond } = rate(() => decodeModel(bytes));
  console.log(`| valid ${name} model | ${bytes.length} | ${Math.round(perSecond)} | ${((perSecond * bytes.length) / 1e6).toFixed(1)} |`);
}
const crcRate = rate(() => crc32(files.int8, 20));
console.log(`| CRC-32 alone (int8 file) | ${files.int8.length} | ${Math.round(crcRate.perSecond)} | ${((crcRate.perSecond * files.int8.length) / 1e6).toFixed(1)} |`);
const corpusRate = rate(decodeCorpus, 2000);
console.log(
  `| fuzz corpus (${corpus.length} files) | ${corpusBytes} | ${Math.round(corpusRate.perSecond * corpus.length)} | ` +
    `${((corpusRate.perSecond * corpusBytes) / 1e6).toFixed(1)} |`,
);
console.log(`\ncorpus: ${((rejected / (accepted + rejected)) * 100).toFixed(1)}% rejected`);
