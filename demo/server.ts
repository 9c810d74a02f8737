/**
 * A small static file server for the demo and the browser tests. It serves the repository root
 * (so /demo/, /dist/ and /test/browser/pages/ resolve) on 127.0.0.1 only.
 *
 * NOTE: every response is cross-origin isolated (COOP/COEP), because gpu.js's WebAssembly backend
 * only gets worker threads (SharedArrayBuffer) in an isolated page. Pages whose name ends in
 * `.csp.html` additionally get a strict `script-src 'self'` policy, so CSP behaviour is tested
 * against a real header rather than a meta tag.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.nca': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

export const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:";

export interface ServerOptions {
  readonly root: string;
  readonly port: number;
  readonly host?: string;
}

/** Resolves a URL path inside root, or null when it would escape it. */
function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const candidate = normalize(join(root, decoded));
  return candidate === root || candidate.startsWith(root + sep) ? candidate : null;
}

export function startServer(options: ServerOptions): Promise<Server> {
  const root = resolve(options.root);
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let file = resolveInside(root, url.pathname);
      if (file === null) {
        res.writeHead(403).end('forbidden');
        return;
      }
      try {
        let info = await stat(file);
        if (info.isDirectory()) {
          if (!url.pathname.endsWith('/')) {
            res.writeHead(301, { location: `${url.pathname}/${url.search}` }).end();
            return;
          }
          file = join(file, 'index.html');
          info = await stat(file);
        }
        const headers: Record<string, string | number> = {
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'content-length': info.size,
          'cache-control': 'no-store',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
          'cross-origin-resource-policy': 'same-origin',
        };
        if (file.endsWith('.csp.html')) headers['content-security-policy'] = STRICT_CSP;
        res.writeHead(200, headers);
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        createReadStream(file).pipe(res);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${url.pathname}`);
      }
    })();
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolveServer(server));
  });
}
