import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { checkpointFromBytes } from '../src/checkpoint/browser.js';
import { CHECKPOINT_PROTO } from '../src/checkpoint/checkpoint-proto.js';
import { encodeCheckpoint, loadCheckpoint, PROTO_PATH, saveCheckpoint } from '../src/checkpoint/index.js';
import { UserError } from '../src/errors.js';
import { tempDir } from './fixtures/harness.js';
import { tinyCheckpoint } from './fixtures/tiny-model.js';

const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));
const ENTRY = resolve(DIST_SRC, 'checkpoint/browser.js');

/**
 * Modules the browser-safe decoder still reaches that import Node built-ins, with why. Each is
 * another part's to make browser-safe; the test fails as soon as one no longer does, so that it
 * leaves this list, and on any module that starts to.
 *  - config.js, options.js, run-folder.js and what it locks with: the option table the decoder
 *    checks a checkpoint's options against shares config.ts with the CLI's parser.
 */
const NOT_YET_BROWSER_SAFE = ['atomic-file.js', 'config.js', 'folder-lock.js', 'options.js', 'run-folder.js'];

const IMPORT = /(?:^|[;\s])(?:import|export)\s[^'";]*?from\s*'([^']+)'|(?:^|[;\s])import\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** Every compiled module reached from entry, with the specifiers it imports that are not relative paths. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (graph.has(file)) continue;
    const external: string[] = [];
    graph.set(file, external);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else external.push(specifier);
    }
  }
  return graph;
}

test('the import graph walker sees the imports of a module it is shown', (t) => {
  const graph = importGraph(resolve(DIST_SRC, 'checkpoint/file.js'));
  t.true(graph.get(resolve(DIST_SRC, 'checkpoint/file.js'))?.includes('node:fs/promises'));
  t.true(graph.get(resolve(DIST_SRC, 'checkpoint/node-sha256.js'))?.includes('node:crypto'));
});

test('the browser-safe checkpoint decoder reaches no Node built-in beyond the modules still listed', (t) => {
  const graph = importGraph(ENTRY);
  t.true(graph.has(resolve(DIST_SRC, 'checkpoint/decode.js')) && graph.has(resolve(DIST_SRC, 'checkpoint/checksum.js')));
  const importsNode = [...graph].filter(([, external]) => external.some((specifier) => specifier.startsWith('node:'))).map(([file]) => relative(DIST_SRC, file));
  const checkpointModules = importsNode.filter((file) => file.startsWith('checkpoint/'));
  t.deepEqual(checkpointModules, [], 'the checkpoint modules themselves');
  t.deepEqual(importsNode.sort(), NOT_YET_BROWSER_SAFE);
});

test('bytes decode to the checkpoint the file holds, in the browser-safe module and through loadCheckpoint', async (t) => {
  const dir = tempDir('browser-checkpoint-');
  t.teardown(() => dir.remove());
  const data = tinyCheckpoint(['a', 'b', 'c'], {
    W: [[0.5, -0.25], [0.125, 1]], U: [[1, 2, 3], [4, 5, 6]], V: [[1, 0], [0, 1], [1, 1]], b: [0.5, -0.5], c: [1, 2, 3],
  });
  const path = dir.file('tiny.ckpt', '');
  await saveCheckpoint(path, data);
  const bytes = new Uint8Array(readFileSync(path));
  // Node's hash and the portable one write the same file.
  t.deepEqual(encodeCheckpoint(data), bytes);
  const fromFile = await loadCheckpoint(path);
  for (const decoded of [checkpointFromBytes(bytes), await loadCheckpoint(bytes)]) {
    t.deepEqual(Array.from(decoded.state.params), Array.from(fromFile.state.params));
    t.deepEqual(Array.from(decoded.model.vocab), Array.from(fromFile.model.vocab));
  }
  bytes[bytes.length - 40] ^= 1;
  t.throws(() => checkpointFromBytes(bytes), { instanceOf: UserError, message: /^the checkpoint given as bytes is damaged/ });
  await t.throwsAsync(loadCheckpoint(new ArrayBuffer(8) as unknown as Uint8Array), { instanceOf: UserError, message: /takes a path or a Uint8Array/ });
});

test('the schema the codec parses is proto/checkpoint.proto as it is now', (t) => {
  t.is(CHECKPOINT_PROTO, readFileSync(PROTO_PATH, 'utf8'));
});
