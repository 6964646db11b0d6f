import test from 'ava';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pollUntil, tempDir } from './fixtures/harness.js';
import { trainDefaultGru } from './fixtures/default-gru-run.js';
import { cpuSeconds, getStreaming, peakRss, postStreaming, serverEvents, startServer, textOf, type ServerUnderTest } from './fixtures/serve-client.js';

// char-rnn serve under load, on loopback, with the default model (GRU, 2 x 128, K = 98): what it
// does when clients go away, and 50 streams at once beside page loads. Serial: each reads the
// server's CPU time or memory, which the other would disturb.

const dir = tempDir('char-rnn-serve-load-');
const RUNS = join(dir.path, 'runs');
let server: ServerUnderTest;

test.before(async (t) => {
  await trainDefaultGru(t, dir, RUNS);
  server = await startServer(['--runs', RUNS], { cwd: dir.path });
});

test.after.always(async () => {
  await server?.stop();
  dir.remove();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a generation, waits for its first characters and goes on reading what comes (a client
 * that stops reading would hold the server back by its full socket); abort() makes it go away.
 */
async function startGeneration(body: unknown): Promise<{ abort: () => void }> {
  const controller = new AbortController();
  const response = await postStreaming(server.origin, '/api/runs/run-1/generate', JSON.stringify(body), controller.signal);
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${await textOf(response)}`);
  const events = serverEvents(response);
  const first = await events.next();
  if (first.done === true || first.value.event !== 'message') throw new Error('no characters came');
  void (async () => {
    for await (const { event } of events) if (event !== 'message') break;
  })().catch(() => undefined); // the abort ends it
  return { abort: () => controller.abort() };
}

/** The server's CPU seconds over the next `ms`. */
async function cpuOver(ms: number): Promise<number> {
  const before = cpuSeconds(server.cli.child.pid as number);
  await sleep(ms);
  return cpuSeconds(server.cli.child.pid as number) - before;
}

test.serial('the server stops generating when the client goes away', async (t) => {
  // 3 x 100,000 characters: some 8 s of one core, were they all made
  const streams = await Promise.all([1, 2, 3].map((seed) => startGeneration({ length: 100_000, seed })));
  // generating: the server spends CPU, however small a share a loaded machine gives it
  const started = cpuSeconds(server.cli.child.pid as number);
  await pollUntil(async () => cpuSeconds(server.cli.child.pid as number) - started, (used) => used >= 0.2, { stillUseful: () => server.cli.running(), what: 'the server to spend 0.2 CPU seconds generating' });
  const busy = await cpuOver(1000);
  for (const stream of streams) stream.abort();
  await sleep(300);
  const idle = await cpuOver(1000);
  t.true(idle < 0.05, `after the clients went away, the server used ${idle.toFixed(2)} CPU seconds in 1 s (${busy.toFixed(2)} before)`);
  t.log(`server CPU in 1 s: ${busy.toFixed(2)} s while 3 generations ran, ${idle.toFixed(2)} s once their clients went away`);
});

test.serial('50 generation streams and page loads for 20 s: no request fails', async (t) => {
  const SECONDS = 20;
  const STREAMS = 50;
  const deadline = Date.now() + SECONDS * 1000;
  const firstCharacterMs: number[] = [];
  const laterFirstCharacterMs: number[] = []; // of the requests after each stream's first, which all came at once
  const failures: string[] = [];
  let generations = 0;
  let pageLoads = 0;
  const stream = async (s: number): Promise<void> => {
    for (let round = 0; Date.now() < deadline; round++) {
      const started = performance.now();
      try {
        const response = await postStreaming(server.origin, '/api/runs/run-1/generate', JSON.stringify({ length: 2000, seed: s * 1000 + round, prime: 'The ' }));
        if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${await textOf(response)}`);
        let characters = 0;
        let done: any;
        for await (const { event, data } of serverEvents(response)) {
          if (event === 'message') {
            if (characters === 0) {
              firstCharacterMs.push(performance.now() - started);
              if (round > 0) laterFirstCharacterMs.push(performance.now() - started);
            }
            characters += [...data.text].length;
          } else if (event === 'done') {
            done = data;
          } else {
            throw new Error(`event ${event}: ${JSON.stringify(data)}`);
          }
        }
        if (done?.characters !== 2004 || characters !== 2004) throw new Error(`ended after ${characters} characters (done: ${JSON.stringify(done)})`);
        generations++;
      } catch (error) {
        failures.push(`stream ${s}: ${String(error)}`);
      }
    }
  };
  const pages = async (): Promise<void> => {
    while (Date.now() < deadline) {
      for (const path of ['/', '/api/runs', '/api/runs/run-1', '/api/runs/run-1?since=0']) {
        try {
          const response = await getStreaming(server.origin, path);
          if (response.status !== 200) throw new Error(`status ${response.status}`);
          pageLoads++;
        } catch (error) {
          failures.push(`GET ${path}: ${String(error)}`);
        }
      }
      await sleep(100);
    }
  };
  await Promise.all([...Array.from({ length: STREAMS }, (_, s) => stream(s)), pages(), pages()]);
  t.deepEqual(failures.slice(0, 5), [], `${failures.length} requests failed`);
  t.true(generations >= STREAMS, `${generations} generations finished`);
  const at = (values: number[], q: number): number => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
  t.log(
    `${STREAMS} streams for ${SECONDS} s on loopback: ${generations} generations of 2,004 characters, ${pageLoads} page loads, none failed; ` +
      `time to first character p50 ${at(firstCharacterMs, 0.5).toFixed(0)} ms, p99 ${at(firstCharacterMs, 0.99).toFixed(0)} ms ` +
      `(after the first burst of ${STREAMS}: p50 ${at(laterFirstCharacterMs, 0.5).toFixed(0)} ms, p99 ${at(laterFirstCharacterMs, 0.99).toFixed(0)} ms); server peak RSS ${(peakRss(server.cli.child.pid as number) / 2 ** 20).toFixed(0)} MiB`,
  );
});

test.serial('beyond 64 generations or 8 scores at once, a new one is refused with 503, and the server goes on', async (t) => {
  // the earlier tests' generations are over first: the server idles
  await pollUntil(() => cpuOver(300), (used) => used < 0.02, { stillUseful: () => server.cli.running(), what: 'the server to be idle' });
  const controllers = Array.from({ length: 66 }, () => new AbortController());
  const generations = await Promise.all(controllers.map((controller, seed) =>
    postStreaming(server.origin, '/api/runs/run-1/generate', JSON.stringify({ length: 100_000, seed }), controller.signal)));
  t.deepEqual(generations.map((response) => response.statusCode).filter((status) => status !== 200), [503, 503]);
  const refused = generations.find((response) => response.statusCode === 503) as IncomingMessage;
  t.regex(JSON.parse(await textOf(refused)).error, /64 generations are running/);
  for (const controller of controllers) controller.abort();
  const text = 'The quick brown fox. '.repeat(470);
  const scores = await Promise.all(Array.from({ length: 12 }, () => postStreaming(server.origin, '/api/runs/run-1/score', JSON.stringify({ text }))));
  const statuses = scores.map((response) => response.statusCode);
  const bodies = await Promise.all(scores.map((response) => textOf(response)));
  // requests read after a score ended may start: how many are refused depends on the timing
  t.true(statuses.every((status) => status === 200 || status === 503) && statuses.includes(503), statuses.join(' '));
  t.true(statuses.filter((status) => status === 200).length >= 8, statuses.join(' '));
  t.regex(bodies[statuses.indexOf(503)], /8 texts are being scored/);
  t.is((await postStreaming(server.origin, '/api/runs/run-1/score', JSON.stringify({ text: 'The fox.' }))).statusCode, 200);
});

test.serial('a score whose client went away, and every aborted generation before it, leave nothing in the server log', async (t) => {
  const text = 'The quick brown fox. '.repeat(470); // 9,870 characters: several slices
  for (let i = 0; i < 3; i++) {
    const controller = new AbortController();
    const answered = postStreaming(server.origin, '/api/runs/run-1/score', JSON.stringify({ text }), controller.signal).catch(() => undefined);
    await sleep(20 * i);
    controller.abort();
    await answered;
  }
  t.is((await getStreaming(server.origin, '/api/runs')).status, 200);
  await server.stop();
  const { stderr, code } = await server.cli.result;
  t.is(stderr, '');
  t.is(code, 0);
});
