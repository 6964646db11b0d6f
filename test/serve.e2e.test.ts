import test from 'ava';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSamples } from '../src/history/index.js';
import { oneLineError, pollUntil, pseudoEnglish, runCli, startCli, succeeded, tempDir } from './fixtures/harness.js';
import { getJson, generateText, postJson, rawRequest, startServer, type ServerUnderTest } from './fixtures/serve-client.js';

// char-rnn serve against runs trained by the CLI: the listing, history, generation as `char-rnn
// sample` gives it, scores as `char-rnn eval` gives them, and what the server refuses.

const dir = tempDir('char-rnn-serve-');
const CORPUS = dir.file('corpus.txt', pseudoEnglish(20_000, 11));
const RUNS = join(dir.path, 'runs');
const TINY = ['--streams', '2', '--seq-length', '20', '--hidden', '16', '--layers', '1', '--no-report'];
let server: ServerUnderTest;

test.before(async (t) => {
  for (const [name, steps] of [['run-1', '20'], ['run-2', '30']]) {
    succeeded(t, await runCli(['train', '--corpus', CORPUS, '--steps', steps, '--eval-every', '10', '--sample-every', '10', ...TINY, '--out', join(RUNS, name)], { cwd: dir.path }), `train ${name}`);
  }
  server = await startServer(['--runs', RUNS], { cwd: dir.path });
});

test.after.always(async () => {
  await server?.stop();
  dir.remove();
});

test('/api/runs lists the runs trained into the folder, newest first, with what their checkpoints say', async (t) => {
  const { status, json } = await getJson(server.origin, '/api/runs');
  t.is(status, 200);
  const names = json.runs.map((run: { name: string }) => run.name);
  t.deepEqual(names.filter((name: string) => name === 'run-1' || name === 'run-2'), ['run-2', 'run-1']);
  const run2 = json.runs.find((run: { name: string }) => run.name === 'run-2');
  t.like(run2, { cell: 'gru', layers: 1, hidden: 16, dtype: 'float32', step: 30, state: 'finished' });
  t.is(typeof run2.bestValLoss, 'number');
  t.false(Number.isNaN(Date.parse(run2.updatedAt)));
  t.false('error' in run2);
});

test('GET /api/runs/:name gives the history and samples, and ?since only the steps after it', async (t) => {
  const all = await getJson(server.origin, '/api/runs/run-1');
  t.is(all.status, 200);
  t.deepEqual(all.json.history.map((row: { step: number }) => row.step), Array.from({ length: 20 }, (_, i) => i + 1));
  t.is(all.json.history[9].valLoss === null, false, 'validation ran at step 10');
  t.is(all.json.history[8].valLoss, null);
  const { samples } = await readSamples(join(RUNS, 'run-1'));
  t.true(samples.length >= 1);
  t.deepEqual(all.json.samples, samples);
  t.is(all.json.etaSeconds, null);
  const later = await getJson(server.origin, '/api/runs/run-1?since=15');
  t.deepEqual(later.json.history.map((row: { step: number }) => row.step), [16, 17, 18, 19, 20]);
  t.deepEqual(later.json.samples, samples.filter((sample) => sample.step > 15));
  const none = await getJson(server.origin, '/api/runs/run-1?since=20');
  t.deepEqual([none.json.history, none.json.samples], [[], []]);
  t.deepEqual(later.json.history, all.json.history.slice(15));
});

test('a run in progress is "training", its new history rows come through since, then it is "finished"', async (t) => {
  const out = join(RUNS, 'run-live');
  const training = startCli(['train', '--corpus', CORPUS, '--steps', '6000', '--eval-every', '1000', '--sample-every', '1000', ...TINY, '--out', out], { cwd: dir.path });
  const summary = async (): Promise<any> => (await getJson(server.origin, '/api/runs')).json.runs.find((run: { name: string }) => run.name === 'run-live');
  const first = await pollUntil(() => getJson(server.origin, '/api/runs/run-live'), ({ json }) => json.run?.state === 'training' && json.history.length > 0, {
    stillUseful: training.running, what: 'run-live to show as training with a history row',
  });
  const since = first.json.history.at(-1).step;
  const next = await pollUntil(() => getJson(server.origin, `/api/runs/run-live?since=${since}`), ({ json }) => json.history.length > 0, {
    stillUseful: training.running, what: 'a row written after the first poll',
  });
  t.true(next.json.history.every((row: { step: number }) => row.step > since));
  succeeded(t, await training.result, 'train run-live');
  const finished = await summary();
  t.is(finished.state, 'finished');
  t.is(finished.step, 6000);
});

for (const [label, options, flags] of [
  ['no prime', { length: 300, seed: 7 }, ['--length', '300', '--seed', '7']],
  ['a prime', { prime: 'The old ', length: 300, seed: 8 }, ['--prime', 'The old ', '--length', '300', '--seed', '8']],
  ['temperature and top-k', { prime: 'A', length: 500, seed: 9, temperature: 0.7, topK: 3 }, ['--prime', 'A', '--length', '500', '--seed', '9', '--temperature', '0.7', '--top-k', '3']],
  ['top-p', { length: 400, seed: 10, topP: 0.9 }, ['--length', '400', '--seed', '10', '--top-p', '0.9']],
] as const) {
  test(`generate gives exactly what char-rnn sample prints for the same seed and options: ${label}`, async (t) => {
    const served = await generateText(server.origin, 'run-2', options);
    const sampled = await runCli(['sample', '--checkpoint', join(RUNS, 'run-2'), ...flags], { cwd: dir.path });
    succeeded(t, sampled, 'sample');
    t.is(served.status, 200);
    t.is(served.text, sampled.stdout);
    t.deepEqual(served.done, { characters: [...sampled.stdout].length, seed: options.seed });
  });
}

test('a generation without a seed tells the seed it drew, which makes the same text again', async (t) => {
  const first = await generateText(server.origin, 'run-1', { length: 200 });
  const again = await generateText(server.origin, 'run-1', { length: 200, seed: first.done.seed });
  t.is(again.text, first.text);
});

test("score's bitsPerChar is char-rnn eval's, and each position has its bits and top five", async (t) => {
  const text = pseudoEnglish(3000, 99);
  const textFile = dir.file('score.txt', text);
  const evaluated = await runCli(['eval', '--checkpoint', join(RUNS, 'run-2'), '--text-file', textFile, '--json'], { cwd: dir.path });
  succeeded(t, evaluated, 'eval');
  const expected = JSON.parse(evaluated.stdout);
  const { status, json } = await postJson(server.origin, '/api/runs/run-2/score', { text });
  t.is(status, 200);
  t.is(json.characters, expected.characters);
  t.is(json.predictions, expected.predictions);
  t.true(Math.abs(json.bitsPerChar - expected.natsPerChar / Math.LN2) <= 1e-12, `${json.bitsPerChar} vs ${expected.natsPerChar / Math.LN2}`);
  t.is(json.positions.length, [...text].length);
  t.deepEqual(json.positions.map((p: { char: string }) => p.char).join(''), text);
  t.is(json.positions[0].bits, null);
  const meanBits = json.positions.slice(1).reduce((sum: number, p: { bits: number }) => sum + p.bits, 0) / json.predictions;
  t.true(Math.abs(meanBits - json.bitsPerChar) < 1e-6, `the positions' mean ${meanBits} vs ${json.bitsPerChar}`);
  for (const { top } of json.positions) {
    t.is(top.length, 5);
    for (let i = 1; i < 5; i++) t.true(top[i - 1].p >= top[i].p);
    t.true(top.reduce((sum: number, c: { p: number }) => sum + c.p, 0) <= 1 + 1e-12);
  }
});

test('bad fields are a 400 naming the field', async (t) => {
  const cases: [string, unknown, string | undefined][] = [
    ['generate', { length: 0 }, 'length'],
    ['generate', { length: 100_001 }, 'length'],
    ['generate', { length: 1.5 }, 'length'],
    ['generate', {}, 'length'],
    ['generate', { length: 10, prime: 'x'.repeat(10_001) }, 'prime'],
    ['generate', { length: 10, prime: 7 }, 'prime'],
    ['generate', { length: 10, prime: 'Zebra \u{1F600}' }, 'prime'],
    ['generate', { length: 10, temperature: -1 }, 'temperature'],
    ['generate', { length: 10, temperature: 'hot' }, 'temperature'],
    ['generate', { length: 10, topK: 0 }, 'topK'],
    ['generate', { length: 10, topP: 0 }, 'topP'],
    ['generate', { length: 10, topP: 1.5 }, 'topP'],
    ['generate', { length: 10, seed: -1 }, 'seed'],
    ['generate', { length: 10, seed: 2 ** 32 }, 'seed'],
    ['generate', { length: 10, colour: 'red' }, 'colour'],
    ['generate', [1, 2], undefined],
    ['score', { text: 'x'.repeat(10_001) }, 'text'],
    ['score', { text: 'a' }, 'text'],
    ['score', {}, 'text'],
    ['score', { text: 'caf\u00e9 \u{1F600}' }, 'text'],
  ];
  for (const [action, body, field] of cases) {
    const { status, json } = await postJson(server.origin, `/api/runs/run-1/${action}`, body);
    const what = `${action} ${JSON.stringify(body).slice(0, 60)}`;
    t.is(status, 400, what);
    t.is(json.field, field, what);
    t.is(typeof json.error, 'string', what);
    t.false(json.error.includes('\n'), what);
  }
  const unknown = await postJson(server.origin, '/api/runs/run-1/score', { text: 'caf\u00e9 \u{1F600}' });
  t.true(unknown.json.error.includes('U+1F600'), unknown.json.error);
  const notJson = await rawRequest(server.origin, '/api/runs/run-1/generate', { method: 'POST', body: '{"length": 10' });
  t.is(notJson.status, 400);
  t.regex(JSON.parse(notJson.body).error, /not JSON/);
  const since = await getJson(server.origin, '/api/runs/run-1?since=yesterday');
  t.is(since.status, 400);
  t.is(since.json.field, 'since');
});

test('a body over 1 MB is refused with 413, and the server goes on', async (t) => {
  const big = JSON.stringify({ text: 'a'.repeat(1_100_000) });
  const response = await rawRequest(server.origin, '/api/runs/run-1/score', { method: 'POST', body: big, headers: { 'Content-Type': 'application/json' } }).catch((error: Error) => error);
  if (!(response instanceof Error)) t.is(response.status, 413); // the server may close before the whole body is sent
  const chunked = await fetch(`${server.origin}/api/runs/run-1/score`, { method: 'POST', body: new Blob([big]).stream(), duplex: 'half' } as RequestInit).catch((error: Error) => error);
  if (!(chunked instanceof Error)) t.is(chunked.status, 413);
  t.true(!(response instanceof Error) || !(chunked instanceof Error), 'at least one of the two was answered');
  t.is((await getJson(server.origin, '/api/runs')).status, 200);
});

test('no request path reaches the file system: dot segments, encoded slashes, absolute paths give 404', async (t) => {
  const paths = [
    '/api/runs/..', '/api/runs/%2e%2e', '/api/runs/%2E%2E/run-1', '/api/runs/..%2Frun-1', '/api/runs/run-1%2F..%2F..%2Fcorpus.txt',
    '/api/runs/%2Fetc%2Fpasswd', '/api/runs//etc/passwd', '/api/runs/run-1/../run-2', '/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/../../package.json', '/assets/..%2F..%2Fpackage.json', '/etc/passwd', '/api/runs/run-1/history.csv', '/api/runs/.%2E',
    '/api/runs/%00', '/api/runs/%E0%A4%A',
  ];
  for (const path of paths) {
    const response = await rawRequest(server.origin, path);
    t.is(response.status, 404, path);
    t.false(response.body.includes('root:'), path);
  }
  for (const path of ['/api/runs/..%2Frun-1/generate', '/api/runs/%2e%2e/score']) {
    t.is((await rawRequest(server.origin, path, { method: 'POST', body: '{"length": 5}' })).status, 404, path);
  }
});

test('a run folder that is a symbolic link out of the runs folder is not listed or served', async (t) => {
  const outside = join(dir.path, 'outside');
  cpSync(join(RUNS, 'run-1'), join(outside, 'run-secret'), { recursive: true });
  const { symlinkSync } = await import('node:fs');
  symlinkSync(join(outside, 'run-secret'), join(RUNS, 'run-link'));
  mkdirSync(join(RUNS, 'run-inner-link'));
  symlinkSync(join(outside, 'run-secret', 'best.ckpt'), join(RUNS, 'run-inner-link', 'best.ckpt'));
  symlinkSync(join(outside, 'run-secret', 'history.csv'), join(RUNS, 'run-inner-link', 'history.csv'));
  const names = (await getJson(server.origin, '/api/runs')).json.runs.map((run: { name: string }) => run.name);
  t.false(names.includes('run-link'));
  t.is((await getJson(server.origin, '/api/runs/run-link')).status, 404);
  t.is((await postJson(server.origin, '/api/runs/run-link/score', { text: 'ab' })).status, 404);
  // a folder whose files link outside is no run at all: none of its files count
  t.is((await getJson(server.origin, '/api/runs/run-inner-link')).status, 404);
  t.is((await postJson(server.origin, '/api/runs/run-inner-link/score', { text: 'ab' })).status, 404);
});

test('requests naming another host are refused (DNS rebinding), and so are POSTs from another origin', async (t) => {
  const rebound = await rawRequest(server.origin, '/api/runs', { headers: { Host: `evil.example:${server.port}` } });
  t.is(rebound.status, 403);
  t.is((await rawRequest(server.origin, '/api/runs', { headers: { Host: `localhost:${server.port}` } })).status, 200);
  const crossSite = await rawRequest(server.origin, '/api/runs/run-1/generate', { method: 'POST', body: '{"length": 5}', headers: { Origin: 'https://evil.example' } });
  t.is(crossSite.status, 403);
  const sameSite = await rawRequest(server.origin, '/api/runs/run-1/generate', { method: 'POST', body: '{"length": 5}', headers: { Origin: server.origin } });
  t.is(sameSite.status, 200);
  t.is((await rawRequest(server.origin, '/api/runs', { method: 'POST' })).status, 405);
  t.is((await rawRequest(server.origin, '/api/runs/run-1/generate')).status, 405);
});

test('a damaged checkpoint is an error in its summary and a JSON error, and the server keeps serving', async (t) => {
  const damaged = join(RUNS, 'run-damaged');
  cpSync(join(RUNS, 'run-1'), damaged, { recursive: true });
  for (const file of ['best.ckpt', 'last.ckpt']) writeFileSync(join(damaged, file), 'not a checkpoint at all');
  const runs = (await getJson(server.origin, '/api/runs')).json.runs;
  const summary = runs.find((run: { name: string }) => run.name === 'run-damaged');
  t.is(typeof summary.error, 'string');
  t.true(runs.some((run: { name: string; error?: string }) => run.name === 'run-1' && run.error === undefined));
  const detail = await getJson(server.origin, '/api/runs/run-damaged');
  t.is(detail.status, 500);
  t.is(detail.json.error, summary.error);
  const generated = await postJson(server.origin, '/api/runs/run-damaged/generate', { length: 10 });
  t.is(generated.status, 500);
  t.is(typeof generated.json.error, 'string');
  t.is((await generateText(server.origin, 'run-1', { length: 20, seed: 1 })).status, 200);
});

test('a run folder deleted while served is an error in its summary and a JSON error, and the server keeps serving', async (t) => {
  const doomed = join(RUNS, 'run-doomed');
  cpSync(join(RUNS, 'run-1'), doomed, { recursive: true });
  t.is((await getJson(server.origin, '/api/runs/run-doomed')).status, 200);
  rmSync(doomed, { recursive: true });
  const summary = (await getJson(server.origin, '/api/runs')).json.runs.find((run: { name: string }) => run.name === 'run-doomed');
  t.regex(summary.error, /deleted/);
  const detail = await getJson(server.origin, '/api/runs/run-doomed');
  t.is(detail.status, 503);
  t.regex(detail.json.error, /deleted/);
  const generated = await postJson(server.origin, '/api/runs/run-doomed/generate', { length: 10 });
  t.is(generated.status, 503);
  t.regex(generated.json.error, /deleted/);
  t.is((await getJson(server.origin, '/api/runs/run-1')).status, 200);
});

test('--checkpoint FILE serves that one file as a run named after it (a run folder, its best.ckpt)', async (t) => {
  const file = join(dir.path, 'model.ckpt');
  cpSync(join(RUNS, 'run-2', 'best.ckpt'), file);
  const single = await startServer(['--checkpoint', file], { cwd: dir.path });
  try {
    const { json } = await getJson(single.origin, '/api/runs');
    t.deepEqual(json.runs.map((run: { name: string }) => run.name), ['model.ckpt']);
    t.like(json.runs[0], { cell: 'gru', step: 30 });
    const served = await generateText(single.origin, 'model.ckpt', { length: 100, seed: 5, prime: 'The ' });
    const sampled = await runCli(['sample', '--checkpoint', file, '--length', '100', '--seed', '5', '--prime', 'The '], { cwd: dir.path });
    t.is(served.text, sampled.stdout);
    t.is((await getJson(single.origin, '/api/runs/run-1')).status, 404);
  } finally {
    await single.stop();
  }
  const folder = await startServer(['--checkpoint', join(RUNS, 'run-1')], { cwd: dir.path });
  try {
    const { json } = await getJson(folder.origin, '/api/runs');
    t.deepEqual(json.runs.map((run: { name: string }) => run.name), ['run-1'], 'a run folder: its best.ckpt, named after the folder');
    t.is((await getJson(folder.origin, '/api/runs/run-1')).json.history.length, 20);
  } finally {
    await folder.stop();
  }
});

test('the page: files of the bundle by a fixed table, and a page saying it is not built when index.html is missing', async (t) => {
  const web = join(dir.path, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>the page</title>');
  writeFileSync(join(web, 'app.js'), 'console.log(1)');
  writeFileSync(join(web, 'assets', 'app.css'), 'body{}');
  const built = await startServer(['--runs', RUNS, '--web-root', web], { cwd: dir.path });
  try {
    const page = await rawRequest(built.origin, '/');
    t.is(page.status, 200);
    t.is(page.body, '<!doctype html><title>the page</title>');
    t.regex(String(page.headers['content-type']), /text\/html/);
    const script = await rawRequest(built.origin, '/assets/app.js');
    t.is(script.body, 'console.log(1)');
    t.regex(String(script.headers['content-type']), /javascript/);
    t.is((await rawRequest(built.origin, '/assets/app.css')).body, 'body{}');
    writeFileSync(join(web, 'late.js'), 'written after the start');
    t.is((await rawRequest(built.origin, '/assets/late.js')).status, 404);
    t.is((await rawRequest(built.origin, '/assets/%2e%2e/index.html')).status, 404);
  } finally {
    await built.stop();
  }
  // an empty web root, since the build now writes the page into the default one (dist/web/)
  const empty = join(dir.path, 'web-unbuilt');
  mkdirSync(empty, { recursive: true });
  const bare = await startServer(['--runs', RUNS, '--web-root', empty], { cwd: dir.path });
  try {
    const unbuilt = await rawRequest(bare.origin, '/');
    t.is(unbuilt.status, 200);
    t.regex(unbuilt.body, /not built/);
  } finally {
    await bare.stop();
  }
});

test('bad flags are one line and exit 2', async (t) => {
  const checkpoint = join(RUNS, 'run-1', 'best.ckpt');
  const cases: [string[], RegExp][] = [
    [['--port', '70000'], /--port/],
    [['--port', 'eighty'], /--port/],
    [['--prot', '80'], /did you mean --port/],
    [['--runs', RUNS, '--checkpoint', checkpoint], /not both/],
    [['--runs', join(dir.path, 'nowhere')], /nowhere/],
    [['--checkpoint', join(dir.path, 'nothing.ckpt')], /nothing\.ckpt/],
    [['--host', 'no.such.host.invalid', '--port', '0'], /--host/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(['serve', ...args], { cwd: dir.path });
    oneLineError(t, result, args.join(' '));
    t.regex(result.stderr, message);
  }
  const taken = await runCli(['serve', '--runs', RUNS, '--port', String(server.port)], { cwd: dir.path });
  oneLineError(t, taken, 'a port in use');
  t.regex(taken.stderr, /in use/);
});

test('it binds 127.0.0.1 by default; --host 0.0.0.0 warns that anyone who reaches the port can read the runs and use the CPU', async (t) => {
  t.true(server.origin.startsWith('http://127.0.0.1:'));
  const open = await startServer(['--runs', RUNS, '--host', '0.0.0.0'], { cwd: dir.path });
  await open.stop();
  const { stderr } = await open.cli.result;
  t.regex(stderr, /warning: listening on 0\.0\.0\.0, not loopback: anyone who can reach this port can read the runs.*CPU.*no authentication/);
});
