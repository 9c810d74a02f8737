/**
 * A small static file server for the demo and the browser tests. It serves the repository root
 * (so /demo/, /dist/ and /test/browser/pages/ resolve) on 127.0.0.1 only.
 *
 * NOTE: every response is cross-origin isolated (COOP/COEP), because gpu.js's WebAssembly backend
 * only gets worker threads (SharedArrayBuffer) in an isolated page. Pages whose name ends in
 * `.csp.html` additionally get a strict `script-src 'self'` policy, so CSP behaviour is tested
 * against a real header rather than a meta tag.
 *
 * Hostile requests get a status, never a crash: a target that is not a URL 400, a path outside
 * the root (also through a symbolic link) 403, a dotfile or folder (`.git`, `.env`) or anything
 * that is not a plain readable file 404; a read that fails after the headers went out aborts that
 * response only. Folder redirects are built from the resolved path, so they stay on this origin.
 */
import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative, resolve, sep } from 'node:path';

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

/** Why a request gets no file: the status it answers with. */
class Refusal extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 500,
    message: string,
  ) {
    super(message);
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

const isHidden = (segments: readonly string[]): boolean => segments.some((s) => s.startsWith('.'));

interface Wanted {
  /** Decoded, non-empty path segments. */
  readonly segments: string[];
  readonly folder: boolean;
  readonly search: string;
}

/** What a request target names; throws a Refusal for what is never served. */
function parseTarget(rawUrl: string): Wanted {
  let url: URL;
  try {
    // NOTE: a request target may be absolute-form (`GET http://host/x`); its host is ignored.
    url = new URL(rawUrl, 'http://localhost');
  } catch {
    throw new Refusal(400, 'bad request target');
  }
  let segments: string[];
  try {
    segments = url.pathname.split('/').map(decodeURIComponent);
  } catch {
    throw new Refusal(400, 'bad percent-encoding');
  }
  // A decoded segment may hold a slash or a NUL ("%2f", "%00"); neither names a file here.
  if (segments.some((s) => s.includes('/') || s.includes('\\') || s.includes('\0'))) throw new Refusal(404, 'not found');
  const named = segments.filter((s) => s !== '');
  // Dotfiles and dot-folders (.git, .env) are never served.
  if (isHidden(named)) throw new Refusal(404, 'not found');
  return { segments: named, folder: url.pathname.endsWith('/'), search: url.search };
}

interface Found {
  readonly handle: FileHandle;
  readonly path: string;
  readonly size: number;
}

/** Opens the file `segments` name inside `root` (a folder's index.html), or throws a Refusal. */
async function openInside(root: string, segments: readonly string[], wantsFolder: boolean): Promise<Found | { readonly redirect: string }> {
  let path: string;
  try {
    // The real path, so a symbolic link cannot lead outside the root.
    path = await realpath(join(root, ...segments));
  } catch {
    throw new Refusal(404, 'not found');
  }
  if (!isInside(root, path)) throw new Refusal(403, 'forbidden');
  const canonical = relative(root, path).split(sep).filter((s) => s !== '');
  // A link may name a dotfile under another name.
  if (isHidden(canonical)) throw new Refusal(404, 'not found');
  const info = await stat(path).catch(() => {
    throw new Refusal(404, 'not found');
  });
  if (info.isDirectory()) {
    // NOTE: built from the resolved path, so it always starts with exactly one slash.
    if (!wantsFolder) return { redirect: `/${canonical.map((s) => `${encodeURIComponent(s)}/`).join('')}` };
    return await openInside(root, [...canonical, 'index.html'], false);
  }
  // A pipe or device would block the open or the read: only plain files are served.
  if (!info.isFile()) throw new Refusal(404, 'not a file');
  let handle: FileHandle;
  try {
    // Opened before any header is sent: an unreadable file is a 403 here, not a crash later.
    // Non-blocking, so a file swapped for a pipe since the stat cannot stall the open.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new Refusal((error as { code?: string }).code === 'EACCES' ? 403 : 404, 'cannot read');
  }
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new Refusal(404, 'not a file');
    return { handle, path, size: opened.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { 'content-type': 'text/plain; charset=utf-8' }).end(refusal.message);
}

async function answer(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new Refusal(405, 'method not allowed');
  const wanted = parseTarget(req.url ?? '/');
  const found = await openInside(root, wanted.segments, wanted.folder);
  if ('redirect' in found) {
    res.writeHead(301, { location: `${found.redirect}${wanted.search}` }).end();
    return;
  }
  const headers: Record<string, string | number> = {
    'content-type': MIME[extname(found.path)] ?? 'application/octet-stream',
    'content-length': found.size,
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
  };
  if (found.path.endsWith('.csp.html')) headers['content-security-policy'] = STRICT_CSP;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    await found.handle.close();
    res.end();
    return;
  }
  const stream = found.handle.createReadStream();
  // NOTE: the headers are gone; a read error can only cut this response short, never the server.
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

export async function startServer(options: ServerOptions): Promise<Server> {
  // The root's real path: what every served file's real path must lie inside.
  const root = await realpath(resolve(options.root));
  const server = createServer((req, res) => {
    answer(root, req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else refuse(res, error instanceof Refusal ? error : new Refusal(500, 'internal error'));
    });
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolveServer(server));
  });
}
