import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { CheckpointData } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { encodeWebModel } from './web-model.js';

/** The files of a static web export, in the order they are listed. */
export const WEB_FILES = ['index.html', 'app.js', 'app.css', 'model.js'] as const;

/** What npm run build bundles into dist/web/ (web/build.mjs): the page, with the library inside app.js. */
const PAGE_FILES = { 'index.html': 'static.html', 'app.js': 'static.js', 'app.css': 'app.css' } as const;

/**
 * The contents of each of WEB_FILES for the model in `data` (read from `path`): the page's files
 * as built, and model.js, the model's bytes as base64 in a script that sets globalThis.charRnnModel,
 * since a page opened from file:// may run scripts but not fetch files beside it.
 */
export function webFolderContents(data: CheckpointData, path: string): [string, string | Uint8Array][] {
  const model = encodeWebModel(data, { name: runName(path), step: data.state.step, valLoss: data.state.valLoss ?? null });
  const modelScript = `// Written by 'char-rnn export --format web': the model (src/export/web-model.ts), base64.\nglobalThis.charRnnModel = '${base64(model)}';\n`;
  const page = Object.entries(PAGE_FILES).map(([file, built]) => [file, pageFile(built)] as [string, Uint8Array]);
  return [...page, ['model.js', modelScript]];
}

function pageFile(name: string): Uint8Array {
  const url = new URL(`../../web/${name}`, import.meta.url);
  try {
    return readFileSync(url);
  } catch {
    throw new UserError(`the web page's ${name} is missing from ${dirname(url.pathname)} (run 'npm run build', which bundles it)`);
  }
}

/** A run folder's name for its checkpoints (<run>/best.ckpt), the file's name otherwise. */
function runName(path: string): string {
  return /^(best|last)\.ckpt$/.test(basename(path)) ? basename(dirname(path)) : basename(path);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
