import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCode } from '../file-errors.js';

/** The page bundle that the build writes (web/ bundled into dist/web/). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

export interface PageFile {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const MAX_DEPTH = 6;
const MAX_TOTAL_BYTES = 64 * 2 ** 20;

export const UNBUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>char-rnn serve</title></head>
<body><h1>char-rnn serve</h1>
<p>The page bundle is not built (no index.html in dist/web/). The API works: try <a href="/api/runs">/api/runs</a>.</p>
</body></html>
`;

/**
 * Every regular file under `root`, read once, by the URL path that serves it: dist/web/a/b.js at
 * /a/b.js, and a file at the top also at /assets/<name>. Requests are only looked up in this
 * table, so no request path ever reaches the file system. Without index.html, / says the bundle
 * is not built.
 */
export function loadPageFiles(root: string): Map<string, PageFile> {
  const files = new Map<string, PageFile>();
  let total = 0;
  const walk = (folder: string, urlPath: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const url = `${urlPath}/${encodeURIComponent(entry.name)}`;
      if (entry.isDirectory() && depth < MAX_DEPTH) walk(path, url, depth + 1);
      if (!entry.isFile()) continue; // a symbolic link could lead anywhere: left out
      const body = readFileSync(path);
      total += body.length;
      if (total > MAX_TOTAL_BYTES) throw new Error(`the page bundle in ${root} is over ${MAX_TOTAL_BYTES / 2 ** 20} MiB`);
      const file = { body, type: TYPES[extname(entry.name).toLowerCase()] ?? 'application/octet-stream' };
      files.set(url, file);
      if (depth === 0 && !files.has(`/assets${url}`)) files.set(`/assets${url}`, file);
    }
  };
  walk(root, '', 0);
  const index = files.get('/index.html') ?? { body: Buffer.from(UNBUILT_PAGE), type: TYPES['.html'] };
  files.set('/', index);
  return files;
}
