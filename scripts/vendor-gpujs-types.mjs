// Runs after `tsc -p tsconfig.build.json`. gpu.js is bundled into dist/ and is not a dependency
// of the published package (rollup.config.mjs says why), yet a few engine declarations name its
// types (`import { GPU } from 'gpu.js'`): a consumer type-checking with `skipLibCheck: false`
// would fail on "Cannot find module 'gpu.js'". So its declaration file (self-contained, no
// imports) is copied next to ours and those specifiers point at the copy.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

const typesDir = 'dist/types';
const vendored = join(typesDir, 'vendor/gpu.js/index.d.ts');
const require = createRequire(import.meta.url);
mkdirSync(dirname(vendored), { recursive: true });
copyFileSync(join(dirname(require.resolve('gpu.js/package.json')), 'src/index.d.ts'), vendored);

/** @param {string} dir */
function* declarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith('.d.ts') && path !== vendored) yield path;
  }
}

let rewritten = 0;
for (const file of declarations(typesDir)) {
  const text = readFileSync(file, 'utf8');
  let target = relative(dirname(file), join(typesDir, 'vendor/gpu.js/index.js')).split(sep).join('/');
  if (!target.startsWith('.')) target = `./${target}`;
  const next = text.replace(/(from\s+|import\()(['"])gpu\.js\2/g, (_, head, quote) => `${head}${quote}${target}${quote}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten += 1;
  }
}
console.log(`vendor-gpujs-types: ${rewritten} declaration files now import ${vendored}`);
