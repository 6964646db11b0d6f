import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import type { CheckpointData } from '../src/checkpoint/index.js';
import { generate, generateStream, sample, sampleMany, type SampleOptions } from '../src/generate.js';
import { modelLayout, stateLength } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { createStepperGroup } from '../src/model/kernel-stepper.js';
import { kernelsAvailable } from '../src/model/kernels.js';
import { precisionOf } from '../src/model/precision.js';
import { Prng } from '../src/model/prng.js';
import { checkSamplingRule, drawFromScores } from '../src/model/sample.js';
import { gatedCheckpoint, GATED_SYMBOLS, type GatedModel } from './fixtures/gated-model.js';
import { GATED_CELLS } from './fixtures/cells.js';

/**
 * The sampler as it was before the kernels: the cell's reference stepper (cell.createStepper,
 * the TypeScript math) fed one symbol at a time, each draw by drawFromScores. The oracle.
 */
function referenceSample(checkpoint: CheckpointData, options: SampleOptions & { seed: number }): string {
  const { cell, L, H, K, vocab } = checkpoint.model;
  const descriptor = cellNamed(cell);
  const stepper = descriptor.createStepper(checkpoint.state.params, modelLayout(descriptor, { cell, L, H, K }), precisionOf(checkpoint.options.dtype));
  const prime = options.prime ?? '';
  const primeIds = Array.from(prime, (ch) => vocab.indexOf(ch.codePointAt(0) as number));
  const S = stateLength(descriptor, { cell, L, H, K });
  stepper.state.set(primeIds.length === 0 ? checkpoint.state.hidden.subarray(0, S) : new Float64Array(S));
  for (const id of primeIds) stepper.feed(id);
  const rule = checkSamplingRule({ temperature: options.temperature ?? 1, topK: options.topK, topP: options.topP });
  const prng = Prng.fromSeed(options.seed);
  const order = new Uint32Array(K);
  const length = options.length ?? 1000;
  let text = prime;
  for (let n = 0; n < length; n++) {
    const id = drawFromScores(stepper.scores(), order, rule, prng);
    text += String.fromCodePoint(vocab[id]);
    if (n + 1 < length) stepper.feed(id);
  }
  return text;
}

const RULES: readonly SampleOptions[] = [{}, { temperature: 0 }, { temperature: 0.7, topK: 4 }, { temperature: 1.3, topP: 0.8 }, { topK: 3, topP: 0.9 }];
const PRIMES = ['', 'the bat é😀\n'];
const MODELS: GatedModel[] = [];
for (const cell of GATED_CELLS) {
  for (const dtype of ['float32', 'float64'] as const) for (const L of [1, 2, 3]) MODELS.push({ cell, dtype, L, H: 13, seed: 10 * L + 1 });
}

for (const model of MODELS) {
  test(`${model.cell} ${model.dtype} L=${model.L}: sample() on the kernels is the reference stepper's text, every seed, rule and prime`, (t) => {
    t.true(kernelsAvailable(model.dtype), 'Node runs the kernels, so this compares them with the reference');
    const checkpoint = gatedCheckpoint(model);
    for (const seed of [1, 2, 3]) {
      for (const rule of RULES) {
        for (const prime of PRIMES) {
          const options = { ...rule, prime, seed, length: 300 };
          t.is(sample(checkpoint, options), referenceSample(checkpoint, options), JSON.stringify(options));
        }
      }
    }
  });
}

test('a stepper group on the kernels carries each of 1 to 4 streams bit for bit as the reference stepper fed alone', (t) => {
  for (const model of MODELS) {
    const { cell, L, H } = model;
    const dims = { cell, L, H, K: GATED_SYMBOLS.length };
    const { params, hidden } = gatedCheckpoint(model).state;
    for (const n of [1, 2, 3, 4]) {
      const fast = createStepperGroup(params, dims, model.dtype, n);
      const reference = createStepperGroup(params, dims, model.dtype, n, 'reference');
      // different starts, each exact in float32: a float32 model's state holds float32 numbers
      fast.states.forEach((state, s) => state.set(hidden.map((x) => x * 2 ** s)));
      reference.states.forEach((state, s) => state.set(hidden.map((x) => x * 2 ** s)));
      let same = true;
      for (let step = 0; step < 40 && same; step++) {
        const [a, b] = [fast.scores(), reference.scores()];
        for (let s = 0; s < n; s++) same &&= a[s].every((x, k) => Object.is(x, b[s][k])) && fast.states[s].every((x, i) => Object.is(x, reference.states[s][i]));
        const ids = Array.from({ length: n }, (_, s) => (step * (s + 2) + s) % dims.K);
        fast.feed(ids);
        reference.feed(ids);
      }
      t.true(same, `${cell} ${model.dtype} L=${L}, ${n} streams`);
    }
  }
});

test('sampleMany: sample i is what sample() gives alone with seed + i, across groups of four and past the largest seed', (t) => {
  const checkpoint = gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 16, seed: 5 });
  for (const [seed, count, prime] of [[40, 1, ''], [7, 6, 'eh'], [0xffffffff - 2, 5, '']] as const) {
    const options = { seed, length: 400, temperature: 0.9, prime };
    const many = sampleMany(checkpoint, { ...options, count });
    t.is(many.length, count);
    many.forEach((text, i) => t.is(text, sample(checkpoint, { ...options, seed: (seed + i) % 2 ** 32 }), `sample ${i} of seed ${seed}`));
    t.true(new Set(many).size === count, 'different seeds draw different texts');
  }
  t.throws(() => sampleMany(checkpoint, { count: 0 }), { instanceOf: RangeError, message: /count must be an integer >= 1, got 0/ });
});

test('generateStream gives the text of sample() in the chunks of generate(), letting a timer run between chunks', async (t) => {
  const checkpoint = gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 2, H: 8, seed: 9 });
  const options = { seed: 3, length: 2000, prime: 'a😀' };
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const chunks: string[] = [];
  let ticksAtSecondChunk = -1;
  for await (const chunk of generateStream(checkpoint, options)) {
    chunks.push(chunk);
    if (chunks.length === 3) ticksAtSecondChunk = ticks;
  }
  clearInterval(timer);
  t.deepEqual(chunks, [...generate(checkpoint, options)]);
  t.is(chunks.join(''), sample(checkpoint, options));
  t.true(ticksAtSecondChunk > 0, 'the event loop ran between chunks');
});

test('generateStream stops with the signal\'s reason once aborted', async (t) => {
  const checkpoint = gatedCheckpoint({ cell: 'gru', dtype: 'float64', L: 1, H: 8, seed: 9 });
  const controller = new AbortController();
  const chunks: string[] = [];
  const error = await t.throwsAsync(async () => {
    for await (const chunk of generateStream(checkpoint, { seed: 1, length: 100_000, signal: controller.signal })) {
      chunks.push(chunk);
      if (chunks.length === 2) controller.abort(new Error('enough'));
    }
  });
  t.is(error?.message, 'enough');
  t.is(chunks.length, 2);
  const aborted = AbortSignal.abort(new Error('before'));
  await t.throwsAsync(async () => {
    for await (const chunk of generateStream(checkpoint, { seed: 1, signal: aborted })) chunks.push(chunk);
  }, { message: 'before' });
  t.is(chunks.length, 2);
});

test('generateStream lets I/O in between chunks: a request to a local server is answered while four generations run', async (t) => {
  const checkpoint = gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 128, seed: 9 });
  const server = createServer((_, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  let chunks = 0;
  let chunksWhenAnswered = -1;
  const request = fetch(`http://127.0.0.1:${port}/`).then(async (response) => {
    await response.text();
    chunksWhenAnswered = chunks;
  });
  // several at once, as a server runs them: each one's turn is due before the loop polls for I/O
  await Promise.all([1, 2, 3, 4].map(async (seed) => {
    for await (const _ of generateStream(checkpoint, { seed, length: 40_000 })) chunks++;
  }));
  await request;
  t.true(chunksWhenAnswered >= 0 && chunksWhenAnswered < chunks, `answered after ${chunksWhenAnswered} of ${chunks} chunks`);
});
