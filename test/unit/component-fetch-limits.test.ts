/**
 * fetchLimited in Node (its fetch streams bodies as browsers do): the deadline still fires on a
 * body that never ends, but not on one that arrived while the page was too busy to run the timer
 * on time (50 engines compiling on the main thread made a 431-byte model "time out" in the full
 * browser run).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fetchLimited, NcaTimeoutError, NcaTooLargeError } from '../../component/fetch-limits.js';

let server: Server;
let origin = '';

before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/small') response.writeHead(200, { 'content-length': 3 }).end('abc');
    else if (request.url === '/declares') response.writeHead(200, { 'content-length': 5000 }).write('x');
    else if (request.url === '/hides') response.writeHead(200).write(Buffer.alloc(2500), () => response.end(Buffer.alloc(2500)));
    else {
      response.writeHead(200).write('x'); // never ends
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const limits = { maxBytes: 1000, timeoutMs: 200 };

test('a body that never ends: NcaTimeoutError', async () => {
  const started = performance.now();
  await assert.rejects(fetchLimited(`${origin}/endless`, new AbortController().signal, limits), (error) => error instanceof NcaTimeoutError && error.timeoutMs === 200);
  // The deadline, plus at most its grace periods on a busy machine.
  assert.ok(performance.now() - started < 8000);
});

test('a page busy past the deadline: a body that arrived meanwhile is not a timeout', async () => {
  const pending = fetchLimited(`${origin}/small`, new AbortController().signal, limits);
  const until = performance.now() + 600;
  while (performance.now() < until) {
    // NOTE: blocks the event loop, as a long kernel compile blocks a page's main thread.
  }
  assert.deepEqual([...(await pending)], [...Buffer.from('abc')]);
});

test('over maxBytes: refused on a declared length, cut off on a hidden one', async () => {
  const roomy = { maxBytes: 1000, timeoutMs: 10_000 };
  await assert.rejects(fetchLimited(`${origin}/declares`, new AbortController().signal, roomy), (error) => error instanceof NcaTooLargeError && error.size === 5000);
  await assert.rejects(fetchLimited(`${origin}/hides`, new AbortController().signal, roomy), (error) => error instanceof NcaTooLargeError && error.size === undefined);
});

test('an abort of the caller is an AbortError, not a timeout', async () => {
  const controller = new AbortController();
  const pending = fetchLimited(`${origin}/endless`, controller.signal, { maxBytes: 1000, timeoutMs: 5000 });
  controller.abort(new DOMException('superseded', 'AbortError'));
  await assert.rejects(pending, (error) => error instanceof DOMException && error.name === 'AbortError');
});
