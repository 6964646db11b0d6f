import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { sample, sampleMany } from '../src/generate.js';
import * as WASM_BASE64 from '../assembly/kernels-wasm.js';
import { kernelsAvailable } from '../src/model/kernels.js';
import { withUnsharedMemoryImport } from '../src/model/wasm-memory-import.js';
import { meanLoss, scoreText } from '../src/score-text.js';
import { gatedCheckpoint, GATED_SYMBOLS } from './fixtures/gated-model.js';
import { importGraph, nodeImports } from './fixtures/import-graph.js';
import { tinyCheckpoint } from './fixtures/tiny-model.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url)); // dist/src
// browser.js is the package's browser entry; checkpoint/browser.js its decoder of bytes
for (const entry of ['browser.js', 'checkpoint/browser.js', 'generate.js', 'score-text.js']) {
  test(`${entry} reaches no Node-only module, so the same code samples and scores in a browser`, (t) => {
    const { files, external } = importGraph(resolve(SRC, entry));
    t.true(files.size > 5, 'the walk followed the imports');
    t.true([...files].some((file) => file.endsWith(entry === 'checkpoint/browser.js' ? 'checksum.js' : 'kernels.js')), 'the walk reached the kernels or the checksum');
    t.deepEqual(nodeImports(external), [], 'imports of Node built-ins, with the file that imports each');
  });
}

test('the walk finds a Node import where there is one (the CLI\'s)', (t) => {
  const { external } = importGraph(resolve(SRC, 'cli.js'));
  t.true([...external.keys()].some((specifier) => specifier.startsWith('node:')));
});

/**
 * Runs f as a browser page without cross-origin isolation would (no shared memory), and says
 * which WebAssembly memories it made: the kernels then run on ordinary ones.
 */
function withoutIsolation<T>(f: () => T): { result: T; memories: WebAssembly.MemoryDescriptor[] } {
  const global = globalThis as { crossOriginIsolated?: boolean };
  const Original = WebAssembly.Memory;
  const memories: WebAssembly.MemoryDescriptor[] = [];
  const recording = function (descriptor: WebAssembly.MemoryDescriptor) {
    memories.push(descriptor);
    return new Original(descriptor);
  };
  global.crossOriginIsolated = false;
  (WebAssembly as { Memory: unknown }).Memory = recording;
  try {
    return { result: f(), memories };
  } finally {
    delete global.crossOriginIsolated;
    (WebAssembly as { Memory: unknown }).Memory = Original;
  }
}

const RNN = tinyCheckpoint(['a', 'b', 'c'], {
  W: [[0.5, -1.2], [0.8, 0.1]],
  U: [[1.5, -0.5, 0.2], [-0.3, 1.1, -0.8]],
  V: [[1.0, -0.5], [-0.7, 1.2], [0.2, 0.3]],
  b: [0.1, -0.2],
  c: [0.2, -0.1, 0.3],
});
const CASES = [
  ['gru float32', gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 12, seed: 3 }), 'the bath\n'],
  ['lstm float64', gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 3, H: 9, seed: 4 }), 'é😀 hat'],
  ['lstm float32', gatedCheckpoint({ cell: 'lstm', dtype: 'float32', L: 1, H: 10, seed: 5 }), 'beat'],
  ['rnn', RNN, 'abcab'],
] as const;

function sameWithoutIsolation(t: ExecutionContext, label: string, f: () => unknown): void {
  t.true(kernelsAvailable(), 'Node runs the kernels');
  const fast = f();
  const { result, memories } = withoutIsolation(() => {
    t.true(kernelsAvailable(), 'a page without cross-origin isolation runs them too');
    return f();
  });
  t.deepEqual(result, fast, label);
  t.true(memories.length > 0 && memories.every((m) => m.shared === false), `${label}: the kernels ran on ordinary memories, not shared ones (${JSON.stringify(memories)})`);
}

for (const [label, checkpoint, text] of CASES) {
  test(`${label}: without shared memory, sampling and scoring run the kernels on an ordinary memory and give the same bits`, (t) => {
    sameWithoutIsolation(t, 'sample', () => [sample(checkpoint, { seed: 8, length: 500, temperature: 0.8 }), sample(checkpoint, { seed: 9, length: 300, prime: text, topP: 0.9 })]);
    sameWithoutIsolation(t, 'sampleMany', () => sampleMany(checkpoint, { seed: 1, length: 200, count: 3, topK: 2 }));
    const long = sample(checkpoint, { seed: 2, length: 5000 }); // past the 2,048 predictions a score stream takes at once
    sameWithoutIsolation(t, 'scoreText', () => scoreText(checkpoint, long).natsPerChar);
    const vocab = [...checkpoint.model.vocab];
    const ids = Uint32Array.from([...long].slice(0, 700), (ch) => vocab.indexOf(ch.codePointAt(0) as number));
    sameWithoutIsolation(t, 'meanLoss', () => meanLoss(checkpoint, ids));
  });
}

test('an engine whose shared WebAssembly.Memory constructor throws (no SharedArrayBuffer) runs the kernels on ordinary memory', (t) => {
  const checkpoint = gatedCheckpoint({ cell: 'gru', dtype: 'float64', L: 1, H: 8, seed: 6 });
  const expected = sample(checkpoint, { seed: 4, length: 300 });
  const Original = WebAssembly.Memory;
  const refusing = function (descriptor: WebAssembly.MemoryDescriptor) {
    if (descriptor.shared === true) throw new TypeError('shared memory is not available');
    return new Original(descriptor);
  };
  (WebAssembly as { Memory: unknown }).Memory = refusing;
  try {
    t.true(kernelsAvailable());
    t.is(sample(checkpoint, { seed: 4, length: 300 }), expected);
  } finally {
    (WebAssembly as { Memory: unknown }).Memory = Original;
  }
  t.true(kernelsAvailable());
  t.is(GATED_SYMBOLS.length, checkpoint.model.K);
});

test('the module with an unshared memory import links to an ordinary memory, where the shipped one needs a shared one', (t) => {
  const shipped = bytesOf(WASM_BASE64.float32);
  const ordinary = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const link = (bytes: Uint8Array) => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: ordinary, log: Math.log } });
  t.throws(() => link(shipped), { name: 'LinkError' });
  const patched = withUnsharedMemoryImport(shipped);
  t.notThrows(() => link(patched));
  t.is(patched.length, shipped.length);
  t.is(patched.filter((byte, i) => byte !== shipped[i]).length, 1, 'one byte, the limits flag, changes');
  t.deepEqual(withUnsharedMemoryImport(patched), patched, 'a module already unshared comes back the same');
});

function bytesOf(base64: string): Uint8Array {
  return Uint8Array.from(Buffer.from(base64, 'base64'));
}
