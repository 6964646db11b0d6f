import test from 'ava';
import { adagradStep, averageSlots } from '../src/model/adagrad.js';

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-15 * Math.max(1, Math.abs(expected));
}

test('adagradStep: clip, accumulate, scale, worked by hand on four entries', (t) => {
  const eta = 0.1;
  const eps = 1e-8;
  const clip = 5;
  const params = Float64Array.of(1, -2, 0.5, 3);
  const grad = Float64Array.of(0.3, 7, -9, 0); // 7 and -9 lie beyond the clip
  const mem = Float64Array.of(0, 1, 4, 2);
  adagradStep(params, grad, mem, { eta, eps, clip });

  // Entry by entry: g = clip(grad); mem += g^2; p -= eta g / sqrt(mem + eps)
  t.deepEqual([...grad], [0.3, 5, -5, 0], 'the gradient is clipped in place');
  const expectedMem = [0.09, 1 + 25, 4 + 25, 2];
  const expectedParams = [
    1 - (0.1 * 0.3) / Math.sqrt(0.09 + 1e-8),
    -2 - (0.1 * 5) / Math.sqrt(26 + 1e-8),
    0.5 + (0.1 * 5) / Math.sqrt(29 + 1e-8),
    3, // a zero gradient leaves the parameter alone (eps keeps 0 / sqrt(mem) finite)
  ];
  for (let i = 0; i < 4; i++) {
    t.true(close(mem[i], expectedMem[i]), `mem[${i}] = ${mem[i]}, expected ${expectedMem[i]}`);
    t.true(close(params[i], expectedParams[i]), `params[${i}] = ${params[i]}, expected ${expectedParams[i]}`);
  }
});

test('adagradStep: a zero gradient on fresh memory is a no-op thanks to eps', (t) => {
  const params = Float64Array.of(0.7);
  const mem = Float64Array.of(0);
  adagradStep(params, Float64Array.of(0), mem, { eta: 0.1, eps: 1e-8, clip: 5 });
  t.is(params[0], 0.7);
  t.is(mem[0], 0);
});

test('adagradStep: a second step uses the accumulated memory', (t) => {
  const params = Float64Array.of(0);
  const mem = Float64Array.of(0);
  const options = { eta: 0.5, eps: 1e-8, clip: 5 };
  adagradStep(params, Float64Array.of(3), mem, options);
  adagradStep(params, Float64Array.of(4), mem, options);
  t.true(close(mem[0], 9 + 16));
  t.true(close(params[0], -(0.5 * 3) / Math.sqrt(9 + 1e-8) - (0.5 * 4) / Math.sqrt(25 + 1e-8)));
});

test('averageSlots: the mean of three slots, by hand', (t) => {
  // Three slots of four entries stored back to back; sums are exact, so the means are too.
  const slots = Float64Array.of(1, 2, 3, 0.5, 4, -2, 6, 0.25, 7, 3, 0, 0.25);
  const out = new Float64Array(4).fill(99); // stale content must not leak in
  averageSlots(slots, 3, 3, out);
  t.deepEqual([...out], [(1 + 4 + 7) / 3, (2 - 2 + 3) / 3, (3 + 6 + 0) / 3, 1 / 3]);
  t.deepEqual([...out], [4, 1, 3, 1 / 3]);
});

test('averageSlots: slots holding pairs of streams are divided by the streams, not the slots', (t) => {
  const slots = Float64Array.of(1, 2, 3, 6); // two slots of two entries: five streams, say
  const out = new Float64Array(2);
  averageSlots(slots, 2, 5, out);
  t.deepEqual([...out], [4 / 5, 8 / 5]);
});

test('averageSlots: with one slot the result is that slot bit for bit', (t) => {
  const slot = [0.1, -0, 1e-310, -7.25, Math.PI];
  const slots = Float64Array.from([...slot, 123, 456]); // trailing data belongs to no slot in use
  const out = new Float64Array(slot.length).fill(99);
  averageSlots(slots, 1, 1, out);
  for (let i = 0; i < slot.length; i++) t.true(Object.is(out[i], slot[i]), `entry ${i}: ${out[i]} vs ${slot[i]}`);
});
