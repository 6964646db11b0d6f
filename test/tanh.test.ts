import test from 'ava';
import { Prng } from '../src/model/prng.js';
import { tanh } from '../src/model/tanh.js';

test('tanh stays within 2 ulp of Math.tanh, on both sides of its 0.625 switch and far out', (t) => {
  const prng = Prng.fromSeed(9);
  let worst = 0;
  let worstAt = 0;
  for (const scale of [1e-8, 0.1, 1.25, 10, 800]) {
    for (let i = 0; i < 20_000; i++) {
      const x = (prng.nextDouble() - 0.5) * scale;
      const expected = Math.tanh(x);
      const ulp = Number.EPSILON * Math.max(Math.abs(expected), Number.MIN_VALUE);
      const error = Math.abs(tanh(x) - expected) / ulp;
      if (error > worst) {
        worst = error;
        worstAt = x;
      }
    }
  }
  t.true(worst <= 2, `${worst.toFixed(2)} ulp at x = ${worstAt}`);
});

test('tanh keeps the sign of zero, saturates to exactly +-1, and passes NaN through', (t) => {
  t.true(Object.is(tanh(0), 0));
  t.true(Object.is(tanh(-0), -0));
  t.is(tanh(400), 1);
  t.is(tanh(-Infinity), -1);
  t.is(tanh(20), Math.tanh(20));
  t.true(Number.isNaN(tanh(Number.NaN)));
});
