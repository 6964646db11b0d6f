import test from 'ava';
import { exp } from '../src/model/exp.js';
import { Prng } from '../src/model/prng.js';

test('exp stays within 1 ulp of Math.exp from -708 to the overflow threshold', (t) => {
  const prng = Prng.fromSeed(8);
  let worst = 0;
  let worstAt = 0;
  for (const [lo, hi] of [[-708, 0], [-1, 1], [-1e-9, 1e-9], [0, 709.78]]) {
    for (let i = 0; i < 50_000; i++) {
      const x = lo + prng.nextDouble() * (hi - lo);
      const expected = Math.exp(x);
      const error = Math.abs(exp(x) - expected) / (Number.EPSILON * expected);
      if (error > worst) {
        worst = error;
        worstAt = x;
      }
    }
  }
  t.true(worst <= 1, `${worst.toFixed(2)} ulp at x = ${worstAt}`);
});

test('exp at its edges: 1 at 0, 0 below -708, Infinity past the largest double, NaN through', (t) => {
  t.is(exp(0), 1);
  t.is(exp(-0), 1);
  t.is(exp(-708.5), 0);
  t.is(exp(-Infinity), 0);
  t.is(exp(709.79), Infinity);
  t.is(exp(Infinity), Infinity);
  t.true(Number.isFinite(exp(709.78)));
  t.true(Number.isNaN(exp(Number.NaN)));
});
