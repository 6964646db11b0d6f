import { join } from 'node:path';
import test from 'ava';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { modelLayout, type ModelDims } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { Prng } from '../src/model/prng.js';
import { resume, train, type TrainEvent } from '../src/index.js';
import { widenedParams } from '../src/vocab.js';
import { pseudoEnglish, runCli, sameState, tempDir } from './fixtures/harness.js';

const dir = tempDir('extend-vocab-');
test.after.always(() => dir.remove());

const OLD_TEXT = pseudoEnglish(6000);
const NEW_SYMBOLS = ['Ω', '€', '😀'];
const NEW_TEXT = `${pseudoEnglish(6000, 99)} Ω€ 😀 ${pseudoEnglish(500, 7)}`;
const OLD_CORPUS = dir.file('old.txt', OLD_TEXT);
const NEW_CORPUS = dir.file('new.txt', NEW_TEXT);
const MODEL = ['--cell', 'lstm', '--layers', '2', '--hidden', '8', '--seq-length', '10', '--streams', '2', '--threads', '1', '--no-report'];

/** The model every test starts from, trained on the old text only. */
let basePromise: Promise<string> | undefined;
function base(): Promise<string> {
  basePromise ??= (async () => {
    const out = join(dir.path, 'base');
    const result = await runCli(['train', ...MODEL, '--corpus', OLD_CORPUS, '--steps', '20', '--out', out], { cwd: dir.path });
    if (result.code !== 0) throw new Error(result.stderr);
    return join(out, 'last.ckpt');
  })();
  return basePromise;
}

for (const dims of [{ cell: 'rnn', L: 1, H: 5, K: 4 }, { cell: 'gru', L: 2, H: 3, K: 4 }, { cell: 'lstm', L: 2, H: 3, K: 4 }] satisfies ModelDims[]) {
  test(`widenedParams (${dims.cell}): an old symbol's weights carry over, a new symbol's are a fresh model's of the larger vocabulary`, (t) => {
    const K = 7;
    const cell = cellNamed(dims.cell);
    const old = modelLayout(cell, dims);
    const params = Float64Array.from({ length: old.size }, (_, i) => 100 + i); // nothing init could draw
    const widened = widenedParams(params, dims, K, 5);
    const fresh = new Float64Array(modelLayout(cell, { ...dims, K }).size);
    cell.init(fresh, modelLayout(cell, { ...dims, K }), Prng.fromSeed(5));
    t.is(widened.length, fresh.length);
    // Walk the new layout by hand: an entry is an old symbol's when its index on every symbol axis is below the old K.
    const newLayout = modelLayout(cell, { ...dims, K });
    let fromOld = 0;
    newLayout.specs.forEach((spec, s) => {
      const before = old.specs[s];
      const [rows, cols = 1] = spec.shape;
      const [oldRows, oldCols = 1] = before.shape;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const at = spec.offset + r * cols + c;
          if (r < oldRows && c < oldCols) {
            fromOld++;
            if (widened[at] !== params[before.offset + r * oldCols + c]) t.fail(`${spec.name}[${r}, ${c}] did not carry over`);
          } else if (!Object.is(widened[at], fresh[at])) {
            t.fail(`${spec.name}[${r}, ${c}] is not the fresh model's`);
          }
        }
      }
    });
    t.is(fromOld, old.size, 'every old entry has a place');
  });
}

test('--init-from a checkpoint that lacks characters of the new text is refused in one line naming them and the flag', async (t) => {
  const from = await base();
  const result = await runCli(['train', ...MODEL, '--init-from', from, '--corpus', NEW_CORPUS, '--steps', '5', '--out', join(dir.path, 'refused')], { cwd: dir.path });
  t.is(result.code, 2);
  t.is(result.stderr.trim().split('\n').length, 1, result.stderr);
  t.regex(result.stderr, /lacks 3 characters of .*new\.txt: "Ω" \(U\+03A9\), "€" \(U\+20AC\), "😀" \(U\+1F600\) \(pass --extend-vocab to add them/);
});

test('--extend-vocab appends the new characters, keeps every old weight, trains, and resumes; the CLI and the library agree', async (t) => {
  const from = await base();
  const before = await loadCheckpoint(from);
  const out = join(dir.path, 'extended');
  const run = train({ cell: 'lstm', layers: 2, hidden: 8, seqLength: 10, streams: 2, threads: 1, noReport: true, initFrom: from, extendVocab: true, corpus: NEW_CORPUS, steps: 10, out });
  const events: TrainEvent[] = [];
  for await (const event of run) events.push(event);
  const result = await run.result;
  const { model } = result.checkpoint;
  t.deepEqual(Array.from(model.vocab), [...Array.from(before.model.vocab), ...NEW_SYMBOLS.map((s) => s.codePointAt(0))]);
  t.is(model.K, before.model.K + 3);
  t.is(result.step, 10);
  t.true(Number.isFinite(result.smoothLoss) && result.smoothLoss > 0);
  t.true(events.some((event) => event.type === 'note' && /added 3 characters/.test(event.message)));

  const cliOut = join(dir.path, 'extended-cli');
  const cli = await runCli(['train', ...MODEL, '--init-from', from, '--extend-vocab', '--corpus', NEW_CORPUS, '--steps', '10', '--out', cliOut], { cwd: dir.path });
  t.is(cli.code, 0, cli.stderr);
  sameState(t, (await loadCheckpoint(join(cliOut, 'last.ckpt'))).state, result.checkpoint.state, 'CLI and library');

  const resumed = await resume(out, { steps: 15 }).result;
  t.is(resumed.step, 15);
  t.deepEqual(Array.from(resumed.checkpoint.model.vocab), Array.from(model.vocab));
});
