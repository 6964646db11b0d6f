import test from 'ava';
import { BadRequest, codePointCount, generateRequest, routeOf } from '../src/serve/requests.js';
import { etaSeconds, type ProgressFacts } from '../src/serve/run-summary.js';
import { likeliest, softmaxInto } from '../src/score-positions.js';

// The pure parts of char-rnn serve: routes, request bodies, the top five, the time left.

test('routes: names are decoded segments; dot segments and encoded slashes match nothing', (t) => {
  t.deepEqual(routeOf('GET', '/api/runs'), { kind: 'runs' });
  t.deepEqual(routeOf('GET', '/api/runs/run%201?since=5'), { kind: 'run', name: 'run 1', since: 5 });
  t.deepEqual(routeOf('POST', '/api/runs/run-1/generate'), { kind: 'generate', name: 'run-1' });
  t.deepEqual(routeOf('GET', '/assets/app.js'), { kind: 'static', path: '/assets/app.js' });
  t.deepEqual(routeOf('HEAD', '/'), { kind: 'static', path: '/' });
  for (const path of ['/api/runs/..', '/api/runs/%2E%2e', '/api/runs/a%2Fb', '/api/runs/a%5Cb', '/api/runs/%00', '/api/runs/%E0%A4%A', '/assets/../x', 'http://host/x', '/api/runs//x/score']) {
    t.is(routeOf('GET', path).kind, 'not found', path);
  }
  t.deepEqual(routeOf('GET', '/api/runs/run-1/score'), { kind: 'method not allowed', allow: 'POST' });
  t.throws(() => routeOf('GET', '/api/runs/run-1?since=1e3'), { instanceOf: BadRequest, message: /since/ });
});

test('generate bodies: defaults, and each bad field named', (t) => {
  t.deepEqual(generateRequest({ length: 5 }), { prime: '', temperature: 1, topK: undefined, topP: undefined, length: 5, seed: undefined });
  const field = (body: unknown): string | undefined => {
    try {
      generateRequest(body);
    } catch (error) {
      return (error as BadRequest).field;
    }
    return 'accepted';
  };
  t.is(field({ length: 5, seed: 0xffffffff }), 'accepted');
  t.is(field({ length: 5, temperature: Number.POSITIVE_INFINITY }), 'temperature');
  t.is(field({ length: 5, topK: '3' }), 'topK');
  t.is(field({ length: 5, prime: '\u{1F600}'.repeat(10_000) }), 'accepted'); // 10,000 characters, 20,000 UTF-16 units
  t.is(field({ length: 5, prime: '\u{1F600}'.repeat(10_001) }), 'prime');
  t.is(codePointCount('a\u{1F600}b\uD800'), 4);
});

test('the top five: likeliest first, ties to the lower id, the probabilities a softmax', (t) => {
  const p = new Float64Array(7);
  softmaxInto(Float64Array.from([1, 3, 3, 0, 2, 5, 6]), p);
  t.true(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const chars = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  t.deepEqual(likeliest(p, chars, 5).map((c) => c.char), ['g', 'f', 'b', 'c', 'e']);
  const flat = Float64Array.from({ length: 7 }, () => 1 / 7);
  t.deepEqual(likeliest(flat, chars, 5).map((c) => c.char), ['a', 'b', 'c', 'd', 'e']);
});

test('time left: by the planned steps at the recent pace, or the time budget, whichever is sooner', (t) => {
  const facts = (plannedSteps: number, minutes?: number): ProgressFacts => ({
    cell: 'gru', layers: 2, hidden: 128, dtype: 'float32', step: 0, epoch: 1, bestValLoss: null, seqLength: 50, plannedSteps, minutes, reachedPlannedEnd: false,
  });
  const rows = Array.from({ length: 30 }, (_, i) => ({ step: i + 1, epoch: 1, charsSeen: 0, loss: 1, smoothLoss: 1, valLoss: undefined, charsPerSec: 1, wallSeconds: (i + 1) / 10 }));
  t.is(etaSeconds(facts(130), rows, true), 10); // 100 steps at 10 a second
  t.is(etaSeconds(facts(Infinity, 1), rows, true), 57);
  t.is(etaSeconds(facts(130, 0.05), rows, true), 0);
  t.is(etaSeconds(facts(130), rows, false), null);
  t.is(etaSeconds(facts(Infinity), rows, true), null);
});
