import test from 'ava';
import { UserError } from '../src/errors.js';
import { generate, sample, type SampleOptions } from '../src/generate.js';
import { paramLayout, viewsOf } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';
import { hiddenStep, logits } from '../src/model/cells/rnn.js';
import { drawIndex, sampleIds } from '../src/model/sample.js';
import {
  chiSquare,
  countSymbols,
  hasLoneSurrogate,
  historyFreeCheckpoint,
  scoresReference,
  softmaxReference,
  stepReference,
  tinyCheckpoint,
  type TinyWeights,
} from './fixtures/tiny-model.js';

// Upper 0.001 critical values of the chi-square distribution (NIST/SEMATECH e-Handbook, table 1.3.6.7.4):
// a correct sampler fails one of these tests once in a thousand seeds; the seeds below are fixed.
const CHI2_CRIT_001 = { 1: 10.828, 2: 13.816, 3: 16.266 } as const;
const DRAWS = 20_000;

/** H=3, K=4 with weights picked by hand so that the greedy path is not constant. */
const WEIGHTS: TinyWeights = {
  W: [[0.5, -1.2, 0.3], [0.8, 0.1, -0.7], [-0.4, 0.9, 0.6]],
  U: [[1.5, -0.5, 0.2, -1.0], [-0.3, 1.1, -0.8, 0.4], [0.6, 0.2, 1.3, -0.9]],
  V: [[1.0, -0.5, 0.3], [-0.7, 1.2, 0.4], [0.2, 0.3, -1.1], [0.5, 0.8, 0.9]],
  b: [0.1, -0.2, 0.05],
  c: [0.2, -0.1, 0.3, 0.0],
};
const ABCD = ['a', 'b', 'c', 'd'];
const tiny = tinyCheckpoint(ABCD, WEIGHTS);

// p = softmax(c) = [0.1, 0.5, 0.3, 0.1] whatever the history: symbols 0 and 3 tie.
const P4 = [0.1, 0.5, 0.3, 0.1];
const WXYZ = ['w', 'x', 'y', 'z'];
const fixed = historyFreeCheckpoint(WXYZ, P4.map(Math.log));

/**
 * The greedy text, by the reference forward pass: argmax with the lowest index among ties. A prime
 * is read from a zero state; without one the text starts from `start`.
 */
function greedyReference(w: TinyWeights, symbols: readonly string[], prime: string, length: number, start = w.b.map(() => 0)): string {
  let h = prime === '' ? start : w.b.map(() => 0);
  const primeIds = Array.from(prime, (ch) => symbols.indexOf(ch));
  for (const x of primeIds) h = stepReference(w, h, x);
  let text = prime;
  for (let n = 0; n < length; n++) {
    const o = scoresReference(w, h);
    const x = o.indexOf(Math.max(...o));
    text += symbols[x];
    h = stepReference(w, h, x);
  }
  return text;
}

function counts(options: SampleOptions): number[] {
  return countSymbols(sample(fixed, { length: DRAWS, seed: 11, ...options }), WXYZ);
}

/** Counts and probabilities of the symbols with p > 0 only, for the chi-square statistic. */
function restricted(observed: readonly number[], p: readonly number[]): [number[], number[]] {
  const keep = p.map((x, k) => (x > 0 ? k : -1)).filter((k) => k >= 0);
  return [keep.map((k) => observed[k]), keep.map((k) => p[k])];
}

test('temperature 0 follows the argmax of the reference forward pass, with and without a prime', (t) => {
  t.is(sample(tiny, { temperature: 0, length: 40, seed: 1 }), greedyReference(WEIGHTS, ABCD, '', 40));
  t.is(sample(tiny, { temperature: 0, length: 40, seed: 1, prime: 'dba' }), greedyReference(WEIGHTS, ABCD, 'dba', 40));
  // No seed needed: nothing is drawn.
  t.is(sample(tiny, { temperature: 0, length: 40 }), sample(tiny, { temperature: 0, length: 40 }));
});

test('without a prime, the text goes on from the state training left stream 0 in', (t) => {
  const start = [0.6, -0.9, 0.2];
  const trained = { ...tiny, state: { ...tiny.state, hidden: Float64Array.from(start) } };
  const text = sample(trained, { temperature: 0, length: 30 });
  t.is(text, greedyReference(WEIGHTS, ABCD, '', 30, start));
  // It matters: from h = 0 the same weights give another text; a prime still starts from zero.
  t.not(text, greedyReference(WEIGHTS, ABCD, '', 30));
  t.is(sample(trained, { temperature: 0, length: 30, prime: 'dba' }), greedyReference(WEIGHTS, ABCD, 'dba', 30));
});

test('temperature 0 breaks ties toward the lowest symbol id', (t) => {
  const tie = historyFreeCheckpoint(WXYZ, [0, 2, 2, 1]);
  t.is(sample(tie, { temperature: 0, length: 10 }), 'xxxxxxxxxx');
});

test('the same seed gives the same text; another seed gives another', (t) => {
  const options = { length: 500, temperature: 1, prime: 'ab' };
  const a = sample(tiny, { ...options, seed: 7 });
  t.is(a.length, 502);
  t.is(sample(tiny, { ...options, seed: 7 }), a);
  t.not(sample(tiny, { ...options, seed: 8 }), a);
  t.is([...generate(tiny, { ...options, seed: 7 })].join(''), a);
});

test('at temperature 1 the symbols follow softmax(c) (chi-square, 3 df, p = 0.001)', (t) => {
  const observed = counts({ temperature: 1 });
  const stat = chiSquare(observed, softmaxReference(P4.map(Math.log)));
  t.true(stat < CHI2_CRIT_001[3], `chi2 = ${stat}, counts ${observed}`);
  // The test has power: the same counts are far from the temperature-0.5 distribution.
  t.true(chiSquare(observed, softmaxReference(P4.map(Math.log), 0.5)) > 10 * CHI2_CRIT_001[3]);
});

test('at temperature 0.5 the symbols follow softmax(c / 0.5)', (t) => {
  const observed = counts({ temperature: 0.5 });
  const stat = chiSquare(observed, softmaxReference(P4.map(Math.log), 0.5));
  t.true(stat < CHI2_CRIT_001[3], `chi2 = ${stat}, counts ${observed}`);
});

test('top-k keeps only the k likeliest symbols, renormalized', (t) => {
  const observed = counts({ topK: 2 }); // x (0.5) and y (0.3)
  t.is(observed[0] + observed[3], 0);
  const stat = chiSquare(...restricted(observed, [0, 0.5 / 0.8, 0.3 / 0.8, 0]));
  t.true(stat < CHI2_CRIT_001[1], `chi2 = ${stat}, counts ${observed}`);
  // Three likeliest: w and z tie at 0.1, the lower id (w) is kept.
  const three = counts({ topK: 3 });
  t.is(three[3], 0);
  t.true(chiSquare(...restricted(three, [0.1 / 0.9, 0.5 / 0.9, 0.3 / 0.9, 0])) < CHI2_CRIT_001[2]);
  // k beyond K keeps everything.
  t.is(sample(fixed, { topK: 99, length: 300, seed: 3 }), sample(fixed, { length: 300, seed: 3 }));
});

test('top-k 1 with tied leaders keeps the lower id', (t) => {
  const tie = historyFreeCheckpoint(WXYZ, [0, 2, 2, 1]);
  t.is(sample(tie, { topK: 1, length: 50, seed: 5 }), 'x'.repeat(50));
});

test('top-p keeps the fewest likeliest symbols whose probability reaches p', (t) => {
  const two = counts({ topP: 0.7 }); // 0.5 < 0.7 <= 0.5 + 0.3
  t.is(two[0] + two[3], 0);
  t.true(chiSquare(...restricted(two, [0, 0.5 / 0.8, 0.3 / 0.8, 0])) < CHI2_CRIT_001[1]);
  const three = counts({ topP: 0.85 }); // 0.8 < 0.85: one of the tied 0.1s, the lower id (w)
  t.is(three[3], 0);
  t.true(chiSquare(...restricted(three, [0.1 / 0.9, 0.5 / 0.9, 0.3 / 0.9, 0])) < CHI2_CRIT_001[2]);
  t.deepEqual(counts({ topP: 0.4 }), [0, DRAWS, 0, 0]);
  t.is(sample(fixed, { topP: 1, length: 300, seed: 3 }), sample(fixed, { length: 300, seed: 3 }));
});

test('top-p applies to the distribution after the temperature', (t) => {
  // At temperature 2, p ~ sqrt([0.1, 0.5, 0.3, 0.1]) = [0.168, 0.375, 0.290, 0.168]: x + y = 0.665 < 0.7.
  const p = softmaxReference(P4.map(Math.log), 2);
  t.true(p[1] + p[2] < 0.7 && p[1] + p[2] + p[0] >= 0.7);
  const observed = counts({ temperature: 2, topP: 0.7 });
  t.is(observed[3], 0);
  const kept = p[0] + p[1] + p[2];
  t.true(chiSquare(...restricted(observed, [p[0] / kept, p[1] / kept, p[2] / kept, 0])) < CHI2_CRIT_001[2]);
});

test('top-k applies before top-p, which sees the renormalized top k', (t) => {
  // Top 2 renormalized: x 0.625, y 0.375, so p = 0.6 keeps x alone; on all four it would keep x and y.
  t.deepEqual(counts({ topK: 2, topP: 0.6 }), [0, DRAWS, 0, 0]);
  const alone = counts({ topP: 0.6 });
  t.true(alone[1] > 0 && alone[2] > 0);
});

test('an emoji vocabulary comes out as whole code points in every chunk', (t) => {
  const symbols = ['a', 'é', '😀', '🎉', '𝄞'];
  const model = historyFreeCheckpoint(symbols, [0, 0, 0, 0, 0]);
  const chunks = [...generate(model, { length: 5000, seed: 9, prime: '😀a🎉' })];
  t.true(chunks.length > 10);
  for (const chunk of chunks) t.false(hasLoneSurrogate(chunk));
  const text = chunks.join('');
  t.true(text.startsWith('😀a🎉'));
  const codePoints = [...text];
  t.is(codePoints.length, 5003);
  t.true(codePoints.every((ch) => symbols.includes(ch)));
  t.true(countSymbols(text, symbols).every((n) => n > 800)); // all five, astral ones included
});

test('unknown prime characters are named, or dropped with skipUnknown', (t) => {
  const error = t.throws(() => sample(tiny, { prime: 'abqé\u{1F600}q', length: 5 }), { instanceOf: UserError });
  t.regex(error.message, /3 characters not in the checkpoint's vocabulary: "q" \(U\+0071\), "é" \(U\+00E9\), "😀" \(U\+1F600\)/);
  t.false(error.message.includes('\n'));
  const skipped = sample(tiny, { prime: 'abqé\u{1F600}q', skipUnknown: true, length: 20, seed: 4 });
  t.is(skipped, sample(tiny, { prime: 'ab', length: 20, seed: 4 }));
  t.true(skipped.startsWith('ab'));
});

test('length 0 gives the prime alone', (t) => {
  t.is(sample(tiny, { length: 0, seed: 1 }), '');
  t.is(sample(tiny, { length: 0, prime: 'cab', seed: 1 }), 'cab');
  t.is(sample(tiny, { seed: 1 }).length, 1000);
});

test('bad options are RangeErrors that name the option, thrown before any text', (t) => {
  const bad: [SampleOptions, RegExp][] = [
    [{ temperature: -1 }, /temperature/],
    [{ temperature: Number.NaN }, /temperature/],
    [{ temperature: Infinity }, /temperature/],
    [{ topK: 0 }, /topK/],
    [{ topK: 1.5 }, /topK/],
    [{ topP: 0 }, /topP/],
    [{ topP: 1.01 }, /topP/],
    [{ length: -1 }, /length/],
    [{ length: 2.5 }, /length/],
    [{ seed: -1 }, /seed/],
    [{ seed: 2 ** 32 }, /seed/],
  ];
  for (const [options, message] of bad) t.throws(() => generate(tiny, options), { instanceOf: RangeError, message }, JSON.stringify(options));
});

test('sampleIds still draws as the seed sampler did, bit for bit (rnn.ts forward, drawIndex)', (t) => {
  // Shapes around the SIMD kernel's eight-row passes: odd, below, at and above a multiple of 8.
  const shapes = [[1, 2], [7, 5], [9, 17], [16, 8], [100, 98]] as const;
  shapes.forEach(([H, K], s) => {
    const dims = { H, K };
    const layout = paramLayout(dims);
    const gen = Prng.fromSeed(21 + s);
    const flat = Float64Array.from({ length: layout.size }, () => gen.nextGaussian() * (1.5 / Math.sqrt(H)));
    const p = viewsOf(flat, layout);
    for (const temperature of [1, 0.7]) {
      const h0 = Float64Array.from({ length: H }, () => gen.nextGaussian());
      // The seed's loop: feed x, o = V h + c, w = exp((o - max) / temperature), drawIndex.
      const hs = new Float64Array(2 * H);
      hs.set(h0);
      const probs = new Float64Array(K);
      const reference = Prng.fromSeed(99);
      const expected: number[] = [];
      let x = K - 1;
      for (let n = 0; n < 500; n++) {
        hiddenStep(p, H, K, x, hs, 0, H);
        hs.copyWithin(0, H, 2 * H);
        const max = logits(p, H, K, hs, 0, probs, 0);
        let total = 0;
        for (let k = 0; k < K; k++) total += probs[k] = Math.exp((probs[k] - max) / temperature);
        x = drawIndex(probs, total, reference.nextDouble());
        expected.push(x);
      }
      const h = h0.slice();
      const label = `H=${H} K=${K} temperature ${temperature}`;
      t.deepEqual([...sampleIds(p, dims, h, K - 1, 500, Prng.fromSeed(99), temperature)], expected, label);
      t.deepEqual([...h], [...hs.subarray(0, H)], label); // Object.is on every entry: the same bits
    }
  });
});
