import test from 'ava';
import { UserError } from '../src/errors.js';
import { decodeWebModel, encodeWebModel } from '../src/export/web-model.js';
import { sample } from '../src/generate.js';
import { scorePositions } from '../src/score-positions.js';
import { scoreText } from '../src/score-text.js';
import { gatedCheckpoint } from './fixtures/gated-model.js';

const INFO = { name: 'run-1', step: 1200, valLoss: 1.5 };
const MODELS = [
  gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 2, H: 8, seed: 1 }),
  gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 8, seed: 2 }),
  gatedCheckpoint({ cell: 'rnn', dtype: 'float64', L: 1, H: 6, seed: 3 }),
];

for (const checkpoint of MODELS) {
  const label = `${checkpoint.model.cell} ${checkpoint.options.dtype}`;

  test(`web model (${label}): the decoded model samples and scores as the checkpoint does`, (t) => {
    const bytes = encodeWebModel(checkpoint, INFO);
    const model = decodeWebModel(bytes);
    t.deepEqual(model.info, INFO);
    t.deepEqual(model.model.vocab, checkpoint.model.vocab);
    const S = model.state.hidden.length;
    t.deepEqual(model.state.hidden, checkpoint.state.hidden.subarray(0, S));
    const round = checkpoint.options.dtype === 'float32' ? Math.fround : (x: number) => x;
    t.deepEqual(model.state.params, checkpoint.state.params.map(round));
    for (const options of [{ seed: 5, length: 300 }, { seed: 6, length: 300, prime: 'the 😀', topK: 3 }]) {
      t.is(sample(model, options), sample(checkpoint, options));
    }
    t.is(scoreText(model, 'the bat é 😀\n').natsPerChar, scoreText(checkpoint, 'the bat é 😀\n').natsPerChar);
  });

  test(`scorePositions (${label}): eval's mean, one position a character, bits that average to it, the five likeliest in order`, (t) => {
    const text = 'the hat 😀 abbé\nbe';
    const score = scorePositions(checkpoint, text);
    t.is(score.natsPerChar, scoreText(checkpoint, text).natsPerChar);
    t.is(score.bitsPerChar, score.natsPerChar / Math.LN2);
    t.deepEqual(score.positions.map((p) => p.char), [...text]);
    t.is(score.positions[0].bits, null);
    const bits = score.positions.slice(1).map((p) => p.bits as number);
    t.true(Math.abs(bits.reduce((a, b) => a + b, 0) / bits.length - score.bitsPerChar) < 1e-5);
    for (const { top } of score.positions) {
      t.is(top.length, 5);
      t.true(top.every((entry, i) => i === 0 || entry.p <= top[i - 1].p));
      t.true(top.reduce((sum, entry) => sum + entry.p, 0) <= 1 + 1e-12);
    }
    // the next character's bits are the probability the previous position gave it, when it is among the five
    score.positions.slice(1).forEach((position, i) => {
      const listed = score.positions[i].top.find((entry) => entry.char === position.char);
      if (listed !== undefined) t.true(Math.abs(-Math.log2(listed.p) - (position.bits as number)) < 1e-12);
    });
  });
}

test('a damaged web model is a UserError that says to export again', (t) => {
  const bytes = encodeWebModel(MODELS[0], INFO);
  for (const damaged of [bytes.subarray(0, 3), bytes.subarray(0, bytes.length - 8), Uint8Array.of(2, 0, 0, 0, 123, 125)]) {
    t.throws(() => decodeWebModel(damaged), { instanceOf: UserError, message: /export it again with 'char-rnn export --format web'/ });
  }
});
