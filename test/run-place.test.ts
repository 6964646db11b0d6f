import test from 'ava';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { makeTrainConfig } from '../src/config.js';
import { loadCorpusFile } from '../src/corpus.js';
import { placeAfter, stepPlace } from '../src/train/plan.js';
import { train } from '../src/train/train.js';
import { silentReporter, tempDir } from './fixtures/harness.js';

const dir = tempDir('run-place-test-');
test.after.always(() => dir.remove());

test('a step\'s place: positions 0, T, 2T, ... in each epoch of floor((L - 1) / T) steps; a checkpoint stands past its last step', (t) => {
  // L = 36, T = 5: a sequence reads T + 1 characters, so positions 0..30 and 7 steps an epoch
  const places = Array.from({ length: 15 }, (_, step) => stepPlace(step, 5, 36));
  t.deepEqual(places.slice(0, 8).map((p) => p.position), [0, 5, 10, 15, 20, 25, 30, 0]);
  t.deepEqual(places.map((p) => p.epoch), [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3]);
  t.deepEqual(places.flatMap((p, step) => (p.startsEpoch ? [step] : [])), [7, 14]);
  t.deepEqual(placeAfter(0, 5, 36), { position: 0, epoch: 1 });
  t.deepEqual(placeAfter(7, 5, 36), { position: 35, epoch: 1 });
  t.deepEqual(placeAfter(8, 5, 36), { position: 5, epoch: 2 });
});

test('a run stopped by a sample\'s listener at an epoch\'s first step saves a checkpoint that loads, standing at the end of the epoch before', async (t) => {
  const corpusFile = dir.file('text.txt', 'The quick brown fox jumps over the lazy dog. '.repeat(90));
  const corpus = await loadCorpusFile(corpusFile);
  // 4050 characters, 405 held out: 4 streams of 911, 91 steps of 10 an epoch; the sample at step 91 opens epoch 2
  const config = makeTrainConfig({
    corpus: corpusFile, cell: 'rnn', hidden: 8, seqLength: 10, streams: 4, threads: 1, valFrac: 0.1,
    evalEvery: 0, sampleEvery: 91, sampleLength: 5, checkpointEvery: 0, epochs: 3, out: join(dir.path, 'run'),
  });
  const controller = new AbortController();
  const samples: { step: number; epoch: number }[] = [];
  const result = await train(config, corpus, silentReporter, {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type !== 'sample') return;
      samples.push({ step: event.step, epoch: event.epoch });
      controller.abort();
    },
  });
  t.deepEqual(samples, [{ step: 91, epoch: 2 }]);
  t.true(result.interrupted);
  const saved = await loadCheckpoint(result.lastPath);
  t.like(saved.state, { step: 91, epoch: 1, position: 910 });
});
