import { join } from 'node:path';
import test from 'ava';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { generate, loadCheckpoint, sample, UserError, type CheckpointData, type SampleOptions } from '../src/index.js';
import { tempDir } from './fixtures/harness.js';
import { scoresReference, stepReference, tinyCheckpoint, type TinyWeights } from './fixtures/tiny-model.js';

const dir = tempDir('library-');
test.after.always(() => dir.remove());

const WEIGHTS: TinyWeights = {
  W: [[0.3, -0.9], [1.1, 0.2]],
  U: [[0.8, -1.2, 0.5], [-0.4, 0.7, 1.3]],
  V: [[1.2, -0.3], [-0.8, 1.0], [0.4, 0.9]],
  b: [0.05, -0.1],
  c: [0.1, 0.2, -0.3],
};
const SYMBOLS = ['x', 'y', '🙂'];
const path = join(dir.path, 'model.ckpt');
const saved = saveCheckpoint(path, tinyCheckpoint(SYMBOLS, WEIGHTS));

test('loadCheckpoint + sample from the package entry: greedy text matches the reference forward pass', async (t) => {
  await saved;
  const checkpoint: CheckpointData = await loadCheckpoint(path);
  const options: SampleOptions = { length: 30, temperature: 0, prime: 'y🙂' };
  const text = sample(checkpoint, options);
  let h = [0, 0];
  let expected = 'y🙂';
  for (const x of [1, 2]) h = stepReference(WEIGHTS, h, x);
  for (let n = 0; n < 30; n++) {
    const o = scoresReference(WEIGHTS, h);
    const x = o.indexOf(Math.max(...o));
    expected += SYMBOLS[x];
    h = stepReference(WEIGHTS, h, x);
  }
  t.is(text, expected);
});

test('a seed makes sample() reproducible, and generate() yields the same text in chunks', async (t) => {
  await saved;
  const checkpoint = await loadCheckpoint(path);
  const text = sample(checkpoint, { length: 2000, temperature: 0.9, topK: 2, seed: 42 });
  t.is(sample(checkpoint, { length: 2000, temperature: 0.9, topK: 2, seed: 42 }), text);
  const chunks = [...generate(checkpoint, { length: 2000, temperature: 0.9, topK: 2, seed: 42 })];
  t.true(chunks.length > 1);
  t.is(chunks.join(''), text);
  t.is([...text].length, 2000);
});

test('mistakes surface as typed errors from the package entry', async (t) => {
  await saved;
  const checkpoint = await loadCheckpoint(path);
  t.throws(() => sample(checkpoint, { prime: 'xz' }), { instanceOf: UserError, message: /"z" \(U\+007A\)/ });
  t.throws(() => generate(checkpoint, { temperature: -0.5 }), { instanceOf: RangeError, message: /temperature/ });
  await t.throwsAsync(loadCheckpoint(join(dir.path, 'missing.ckpt')), { instanceOf: UserError });
});

test("the package name resolves to the same entry through package.json's exports", async (t) => {
  await saved;
  const name = 'parallel-char-rnn'; // a variable, so tsc does not resolve the package while building it
  const entry = (await import(name)) as typeof import('../src/index.js');
  const checkpoint = await entry.loadCheckpoint(path);
  t.is(entry.sample(checkpoint, { length: 100, seed: 5 }), sample(checkpoint, { length: 100, seed: 5 }));
});
