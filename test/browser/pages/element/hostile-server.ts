/**
 * A second origin for the element's download tests (issue 12): servers that trickle, lie about or
 * hide their length, cut a body short, refuse CORS, or hand over a tiny image that declares a huge
 * bitmap. It runs in the Playwright process on its own port, so every URL on it is cross-origin
 * to the test pages; all routes but `/no-cors/` allow that origin with
 * `Access-Control-Allow-Origin: *`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HostileServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Bytes of body each path has sent so far, and whether the client closed it before the end. */
  readonly sent: Map<string, { bytes: number; closedEarly: boolean }>;
  close(): Promise<void>;
}

const CORS = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };

/** A PNG header (signature and IHDR) declaring width x height; no pixel data needed to refuse it. */
function pngHeader(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'ascii');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA; CRC left zero
  return bytes;
}

/** Writes `chunk` every `everyMs` until `total` bytes went out or the client went away. */
function drip(response: ServerResponse, record: { bytes: number }, chunk: Buffer, everyMs: number, total: number): void {
  const timer = setInterval(() => {
    if (response.destroyed || record.bytes >= total) {
      clearInterval(timer);
      if (!response.destroyed) response.end();
      return;
    }
    response.write(chunk);
    record.bytes += chunk.length;
  }, everyMs);
  response.on('close', () => clearInterval(timer));
}

/** Writes `total` bytes as fast as the client reads them (respecting back-pressure). */
function flood(response: ServerResponse, record: { bytes: number }, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const pump = (): void => {
    while (!response.destroyed && record.bytes < total) {
      record.bytes += chunk.length;
      if (!response.write(chunk)) {
        response.once('drain', pump);
        return;
      }
    }
    if (!response.destroyed) response.end();
  };
  pump();
}

export async function startHostileServer(modelPath: string): Promise<HostileServer> {
  const model = await readFile(modelPath);
  const sent = new Map<string, { bytes: number; closedEarly: boolean }>();
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const record = { bytes: 0, closedEarly: false };
    sent.set(path, record);
    response.on('close', () => {
      record.closedEarly = !response.writableFinished;
    });
    const octets = { ...CORS, 'content-type': 'application/octet-stream' };
    switch (path) {
      case '/model.nca':
        response.writeHead(200, { ...octets, 'content-length': model.length }).end(model);
        return;
      case '/no-cors/model.nca':
        // A real model, but no Access-Control-Allow-Origin: the browser must refuse it.
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': model.length }).end(model);
        return;
      case '/trickle.nca':
        // One byte every 100 ms, for an hour: headers arrive, the body never finishes.
        response.writeHead(200, octets);
        response.flushHeaders();
        drip(response, record, Buffer.from([0]), 100, 36_000);
        return;
      case '/declares-huge.nca':
        // Declares 2 GiB and trickles: refusable from the header alone.
        response.writeHead(200, { ...octets, 'content-length': 2 ** 31 });
        response.flushHeaders();
        drip(response, record, Buffer.alloc(1024), 100, 2 ** 31);
        return;
      case '/hides-huge.nca':
        // Chunked, no length, 256 MiB as fast as it is read: only counting can stop it.
        response.writeHead(200, octets);
        flood(response, record, 256 * 1024 * 1024);
        return;
      case '/cut-off.nca':
        // Declares the whole model, sends half, then drops the connection.
        response.writeHead(200, { ...octets, 'content-length': model.length });
        response.write(model.subarray(0, model.length >> 1), () => response.destroy());
        record.bytes = model.length >> 1;
        return;
      case '/huge-image.png':
        // 33 bytes that declare a 30000 x 30000 bitmap (3.6 GB of RGBA).
        response.writeHead(200, { ...CORS, 'content-type': 'image/png' }).end(pngHeader(30_000, 30_000));
        return;
      default:
        response.writeHead(404, CORS).end();
    }
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
