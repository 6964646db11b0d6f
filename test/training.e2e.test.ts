import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointState } from '../src/checkpoint/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/config.js';
import { loadCorpusFile, type Corpus } from '../src/corpus.js';
import { TrainingError } from '../src/errors.js';
import { adagradStep } from '../src/model/adagrad.js';
import { initParams } from '../src/model/cells/rnn-init.js';
import { paramLayout, viewsOf } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';
import type { Reporter } from '../src/progress.js';
import { createWorkspace, sequenceLossAndGrad } from '../src/model/cells/rnn.js';
import { train } from '../src/train/train.js';
import { bytesOf, firstBitDifference, runCli, settlesWithin, silentReporter, tempDir } from './fixtures/harness.js';

const dir = tempDir('training-test-');
test.after.always(() => dir.remove());

/** Threads of this process, from Linux's /proc; undefined elsewhere. */
function threadCount(): number | undefined {
  return existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : undefined;
}

/**
 * The thread count once it has dropped to at most `max`, or after 5 s whatever it is then.
 * Piscina unrefs idle workers, so a leaked pool would not keep a process alive: count the threads instead.
 */
async function threadsSettle(max: number | undefined): Promise<number | undefined> {
  let count = threadCount();
  for (let waited = 0; count !== undefined && max !== undefined && count > max && waited < 5_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = threadCount();
  }
  return count;
}

// Repetitive English: a tiny model learns it within a few hundred steps.
const PARAGRAPH = 'The quick brown fox jumps over the lazy dog. A stitch in time saves nine. ';
const TEXT = PARAGRAPH.repeat(60); // 4440 characters
const CORPUS_FILE = dir.file('paragraph.txt', TEXT);
let corpusPromise: Promise<Corpus> | undefined;
const corpus = (): Promise<Corpus> => (corpusPromise ??= loadCorpusFile(CORPUS_FILE));

/** Quiet flags for the tests: no samples, validation and checkpoints only at the end, saved in the temp folder. */
function config(partial: Partial<TrainConfig>): TrainConfig {
  return makeTrainConfig({
    corpus: CORPUS_FILE, cell: 'rnn', hidden: 16, seqLength: 10, streams: 4, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0, out: join(dir.path, 'checkpoints'),
    ...partial,
  });
}

// Training spawns worker threads: the tests run one at a time so that timings and thread counts mean something.

test.serial('the loss falls below that of a uniform model, on training and held-out text', async (t) => {
  const c = await corpus();
  const K = new Set(TEXT).size; // distinct characters, counted independently of the loader
  t.is(c.vocab.length, K);
  const uniform = Math.log(K); // nats per character of the uniform distribution over K symbols

  // At step 1 the weights are tiny (sigma 0.01), so the model is almost uniform.
  const first = (await train(config({ steps: 1, valFrac: 0.1 }), c, silentReporter)).last.state;
  t.true(Math.abs(first.smoothLoss / 10 - uniform) < 0.01, `step 1: ${first.smoothLoss / 10} nats/char vs ln K = ${uniform}`);

  const trained = (await train(config({ steps: 300, valFrac: 0.1, threads: 2 }), c, silentReporter)).last.state;
  const perChar = trained.smoothLoss / 10;
  t.true(perChar < uniform - 0.5, `after 300 steps: ${perChar} nats/char vs ln K = ${uniform}`);
  t.true(trained.valLoss !== undefined && Number.isFinite(trained.valLoss), `validation ${trained.valLoss}`);
  t.true(trained.valLoss! < uniform - 1, `validation ${trained.valLoss} nats/char vs ln K = ${uniform}`);
  t.is(trained.step, 300);
  t.is(trained.charsSeen, 300 * 4 * 10);
});

test.serial('1, 2 and 3 threads give bit-identical weights, AdaGrad memory, PRNG state and loss', async (t) => {
  const c = await corpus();
  // Samples and evaluations during the run exercise the PRNG and the evaluation tasks too.
  const flags = { streams: 6, steps: 40, valFrac: 0.1, sampleEvery: 15, evalEvery: 10, sampleLength: 20 };
  const results = [];
  for (const threads of [1, 2, 3]) results.push((await train(config({ ...flags, threads }), c, silentReporter)).last.state);
  const [one, ...others] = results;
  others.forEach((other, i) => {
    const threads = i + 2;
    t.is(Buffer.compare(bytesOf(other.params), bytesOf(one.params)), 0, `params, ${threads} threads: first difference at ${firstBitDifference(other.params, one.params)}`);
    t.is(Buffer.compare(bytesOf(other.optimizerState), bytesOf(one.optimizerState)), 0, `AdaGrad memory, ${threads} threads`);
    t.is(Buffer.compare(bytesOf(other.hidden), bytesOf(one.hidden)), 0, `carried hidden states, ${threads} threads`);
    t.deepEqual([...other.prngState], [...one.prngState], `PRNG state, ${threads} threads`);
    t.true(Object.is(other.smoothLoss, one.smoothLoss), `smooth loss, ${threads} threads`);
    t.true(Object.is(other.valLoss, one.valLoss), `validation loss, ${threads} threads`);
  });
});

/**
 * The training loop written out independently from the model functions: B streams of L characters
 * each over the first (1 - valFrac) of the text, one sequence of T per stream and step, each stream
 * carrying its hidden state, all of them restarting from zero at the end of an epoch. Streams 2p
 * and 2p + 1 add their gradients into one buffer, in that order; the gradient is the sum of these
 * pair buffers in the given order, divided by B.
 */
function referenceTrain(c: Corpus, cfg: TrainConfig, order: (B: number) => number[] = (B) => [...Array(B).keys()]) {
  const { hidden: H, seqLength: T, streams: B, seed } = cfg;
  const K = c.vocab.length;
  const dims = { H, K };
  const layout = paramLayout(dims);
  const P = H * H + 2 * H * K + H + K;
  const flat = new Float64Array(P);
  initParams(flat, layout, Prng.fromSeed(seed));
  const params = viewsOf(flat, layout);
  const mem = new Float64Array(P);
  const n = c.ids.length;
  const L = Math.floor((n - Math.floor(n * cfg.valFrac)) / B);
  const hs = Array.from({ length: B }, () => new Float64Array(H));
  const pairs = Math.ceil(B / 2);
  const grads = Array.from({ length: pairs }, () => new Float64Array(P));
  const mean = new Float64Array(P);
  const ws = createWorkspace(dims, T);
  const sumOrder = order(pairs);
  let position = 0;
  let epoch = 1;
  for (let step = 0; step < cfg.steps!; step++) {
    if (position + T >= L) {
      // a sequence reads T + 1 characters, position .. position + T, all inside the stream
      position = 0;
      epoch++;
      for (const h of hs) h.fill(0);
    }
    for (const grad of grads) grad.fill(0);
    for (let s = 0; s < B; s++) {
      sequenceLossAndGrad(params, dims, c.ids, s * L + position, hs[s], viewsOf(grads[s >> 1], layout), ws);
      hs[s].set(ws.hs.subarray(T * H, (T + 1) * H));
    }
    for (let i = 0; i < P; i++) {
      let sum = grads[sumOrder[0]][i];
      for (let k = 1; k < pairs; k++) sum += grads[sumOrder[k]][i];
      mean[i] = sum / B;
    }
    adagradStep(flat, mean, mem, cfg);
    position += T;
  }
  return { params: flat, mem, epoch };
}

/** The trainer's end state equals the reference loop's bit for bit, after crossing an epoch boundary. */
function assertSameAsReference(t: ExecutionContext, result: CheckpointState, reference: ReturnType<typeof referenceTrain>): void {
  t.is(reference.epoch, 2, 'the run crosses an epoch boundary');
  t.is(result.epoch, reference.epoch);
  t.is(Buffer.compare(bytesOf(result.params), bytesOf(reference.params)), 0, `first difference at ${firstBitDifference(result.params, reference.params)}`);
  t.is(Buffer.compare(bytesOf(result.optimizerState), bytesOf(reference.mem)), 0);
}

test.serial('one stream equals a single-stream reference loop, bit for bit, across epochs', async (t) => {
  const c = await corpus();
  // 4440 - 222 = 4218 training characters: 421 steps per epoch at T = 10, so 500 steps wrap once.
  const cfg = config({ streams: 1, threads: 1, steps: 500, valFrac: 0.05 });
  const result = (await train(cfg, c, silentReporter)).last.state;
  const reference = referenceTrain(c, cfg);
  assertSameAsReference(t, result, reference);
});

test.serial('five streams equal the reference with the pairs\' gradients summed in order', async (t) => {
  const c = await corpus();
  // (4440 - 444) / 5 = 799 characters per stream: 79 steps per epoch, so 100 steps wrap once.
  const cfg = config({ streams: 5, threads: 2, steps: 100, valFrac: 0.1 });
  const result = (await train(cfg, c, silentReporter)).last.state;
  const reference = referenceTrain(c, cfg);
  assertSameAsReference(t, result, reference);
  // The comparison is sharp enough to see the order: summing the pairs backwards changes the bits.
  const reversed = referenceTrain(c, cfg, (B) => [...Array(B).keys()].reverse());
  t.not(Buffer.compare(bytesOf(reversed.params), bytesOf(reference.params)), 0);
});

test.serial('a NaN loss stops the run with a TrainingError naming the loss', async (t) => {
  const c = await corpus();
  const threadsBefore = threadCount();
  // One AdaGrad step moves every parameter with a gradient by about eta: with eta = 1e308 the
  // logits V h + c overflow to +-Infinity and softmax gives NaN at the second step.
  const run = train(config({ steps: 50, eta: 1e308, valFrac: 0.1, threads: 2 }), c, silentReporter);
  const error = await t.throwsAsync(settlesWithin(run, 15_000), { instanceOf: TrainingError });
  t.regex(error?.message ?? '', /loss/);
  t.regex(error?.message ?? '', /NaN|Infinity/);
  const threadsAfter = await threadsSettle(threadsBefore);
  if (threadsBefore !== undefined) t.true(threadsAfter! <= threadsBefore, `${threadsBefore} threads before, ${threadsAfter} after`);
});

test.serial('a worker that throws rejects the run with a TrainingError carrying its message, promptly', async (t) => {
  const c = await corpus();
  const workerUrl = new URL('./fixtures/failing-worker.js', import.meta.url);
  const threadsBefore = threadCount();
  const started = Date.now();
  const run = train(config({ steps: 20, valFrac: 0.1, threads: 2 }), c, silentReporter, { workerUrl });
  const error = await t.throwsAsync(settlesWithin(run, 15_000), { instanceOf: TrainingError });
  t.regex(error?.message ?? '', /boom/);
  t.true(Date.now() - started < 15_000);
  const threadsAfter = await threadsSettle(threadsBefore);
  if (threadsBefore !== undefined) t.true(threadsAfter! <= threadsBefore, `${threadsBefore} threads before, ${threadsAfter} after`);
});

(threadCount() === undefined ? test.skip : test.serial)('the worker threads are gone once train() resolves', async (t) => {
  const c = await corpus();
  const before = threadCount()!;
  let during = 0;
  const counting: Reporter = { ...silentReporter, update: () => void (during = Math.max(during, threadCount()!)) };
  await train(config({ steps: 5, threads: 3, valFrac: 0.1 }), c, counting);
  t.true(during >= before + 3, `${before} threads before, ${during} during training`);
  const after = await threadsSettle(before);
  t.true(after! <= before, `${before} threads before, ${after} after train() resolved`);
});

test.serial('the CLI exits by itself after training', async (t) => {
  // cwd is the temp folder, so anything the CLI saves relative to it stays out of the repository.
  const result = await runCli(
    ['train', '--corpus', CORPUS_FILE, '--steps', '5', '--hidden', '8', '--seq-length', '10', '--streams', '4', '--threads', '2', '--sample-every', '0', '--eval-every', '0'],
    { cwd: dir.path },
  );
  t.false(result.timedOut, `still running after 30 s; stdout:\n${result.stdout}`);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /done: 5 steps/);
});

test.serial('a run with many validation segments writes nothing to stderr', async (t) => {
  // 12 x 16,384 held-out characters: twelve evaluation tasks in flight on one abort signal, past
  // Node's default of ten listeners, which once printed a MaxListenersExceededWarning.
  const long = dir.file('long.txt', PARAGRAPH.repeat(5400)); // 399,600 characters, half held out
  const result = await runCli(
    ['train', '--corpus', long, '--steps', '2', '--hidden', '4', '--seq-length', '10', '--streams', '2', '--val-frac', '0.5', '--eval-every', '1', '--sample-every', '0'],
    { cwd: dir.path },
  );
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
});
