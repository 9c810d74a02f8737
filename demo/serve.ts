/** `npm start`: serves the built demo on 127.0.0.1 and prints its URL. Port: --port N or $PORT. */
import { fileURLToPath } from 'node:url';
import { startServer } from './server.js';

function portFromArgs(argv: readonly string[]): number {
  const i = argv.indexOf('--port');
  const raw = i >= 0 ? argv[i + 1] : process.env['PORT'];
  const port = raw === undefined ? 8080 : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--port must be an integer in 0..65535, got ${String(raw)}`);
  }
  return port;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const port = portFromArgs(process.argv.slice(2));
const server = await startServer({ root, port });
const address = server.address();
const actualPort = typeof address === 'object' && address !== null ? address.port : port;
console.log(`nca-canvas demo: http://127.0.0.1:${actualPort}/demo/`);
