#!/usr/bin/env node
import { createRequire } from 'node:module';
import { parseTrainConfig, trainHelp, type TrainConfig } from './config.js';
import { decodeIds, loadCorpusFile, loadDefaultCorpus, type Corpus } from './corpus.js';
import { TrainingError, UserError } from './errors.js';
import { ABS_TOLERANCE, gradcheck, REL_MIN_GRADIENT, REL_TOLERANCE } from './gradcheck.js';
import { paramLayout, viewsOf } from './model/layout.js';
import { Prng } from './model/prng.js';
import { sampleIds } from './model/sample.js';
import { optionsHelp, parseOptions, type OptionSpec } from './options.js';
import { createReporter, type Reporter } from './progress.js';
import { formatPerChar, train } from './train/train.js';

const USAGE = `usage: char-rnn <command> [options]

commands:
  train       train a character-level RNN on a text, in parallel across cores
  gradcheck   compare analytic gradients with centered finite differences

'char-rnn <command> --help' lists a command's options.`;

const GRADCHECK_OPTIONS: readonly OptionSpec[] = [
  { name: 'hidden', kind: 'int', default: 100, min: 1, max: 4096, help: 'hidden units H' },
  { name: 'vocab', kind: 'int', default: 98, min: 2, max: 100000, help: 'vocabulary size K (98: the default corpus)' },
  { name: 'seq-length', kind: 'int', default: 25, min: 1, max: 10000, help: 'sequence length T' },
  { name: 'seed', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the random problem' },
  { name: 'samples', kind: 'int', default: 2500, min: 1, help: 'random entries checked in each of W, U, V (b and c: all)' },
  { name: 'all', kind: 'flag', help: 'check every entry of every matrix' },
];

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command === 'train' ? trainHelp() : `usage: char-rnn ${command} [options]\n\n${optionsHelp(GRADCHECK_OPTIONS)}`}\n`);
    return 0;
  }
  switch (command) {
    case 'train':
      return runTrain(parseTrainConfig(rest));
    case 'gradcheck':
      return runGradcheck(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UserError(`unknown command '${command}' (commands: train, gradcheck; see 'char-rnn --help')`);
  }
}

async function runTrain(config: TrainConfig): Promise<number> {
  const reporter = createReporter();
  const corpus = await loadWithSpinner(config, reporter);
  const result = await train(config, corpus, reporter);
  const perChar = result.smoothLoss / config.seqLength;
  const lines = [
    `done: ${result.steps} steps, epoch ${result.epoch}, ${result.charsSeen} characters in ${result.seconds.toFixed(1)} s (${Math.round(result.charsSeen / result.seconds)} chars/s, ${config.threads} threads)`,
    `smooth loss ${result.smoothLoss.toFixed(3)} per ${config.seqLength} characters (${formatPerChar(perChar)}); lowest ${result.bestSmoothLoss.toFixed(3)} at step ${result.bestStep + 1}`,
    result.valLoss === undefined ? 'no validation text (--val-frac 0)' : `validation loss ${formatPerChar(result.valLoss)}`,
    `----- sample from the weights with the lowest smooth loss -----`,
    sampleFrom(result.bestParams, corpus, config, Prng.fromState(result.prngState)),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function loadWithSpinner(config: TrainConfig, reporter: Reporter): Promise<Corpus> {
  const what = config.corpus ?? 'the State of the Union corpus';
  reporter.begin(`loading ${what}`);
  try {
    const corpus = config.corpus === undefined ? await loadDefaultCorpus() : await loadCorpusFile(config.corpus);
    reporter.done(`loaded ${corpus.source}: ${corpus.ids.length} characters, ${corpus.vocab.length} distinct symbols`);
    return corpus;
  } catch (error) {
    reporter.fail(`could not load ${what}`);
    throw error;
  }
}

function sampleFrom(flat: Float64Array, corpus: Corpus, config: TrainConfig, prng: Prng): string {
  const dims = { H: config.hidden, K: corpus.vocab.length };
  const params = viewsOf(flat, paramLayout(dims));
  const ids = sampleIds(params, dims, new Float64Array(dims.H), corpus.ids[0], Math.max(config.sampleLength, 500), prng);
  return decodeIds(ids, corpus.vocab);
}

function runGradcheck(argv: readonly string[]): number {
  const v = parseOptions('gradcheck', GRADCHECK_OPTIONS, argv);
  const options = {
    H: v.hidden as number,
    K: v.vocab as number,
    T: v['seq-length'] as number,
    seed: v.seed as number,
    samplesPerMatrix: v.all === true ? Infinity : (v.samples as number),
  };
  process.stdout.write(`gradcheck: H=${options.H} K=${options.K} T=${options.T} seed=${options.seed}, centered differences with step 1e-5\n`);
  const checks = gradcheck(options);
  for (const c of checks) {
    const rel = c.judgedRelative === 0 ? '     -   ' : c.maxRelError.toExponential(2);
    process.stdout.write(
      `  ${c.name}: ${String(c.checked).padStart(5)} entries  max |grad| ${c.maxGradient.toExponential(2)}  max abs err ${c.maxAbsError.toExponential(2)}  max rel err ${rel} (over ${c.judgedRelative} with |grad| > ${REL_MIN_GRADIENT})  ${c.passed ? 'ok' : 'FAIL'}\n`,
    );
  }
  const passed = checks.every((c) => c.passed);
  process.stdout.write(`${passed ? 'PASS' : 'FAIL'}: bounds are abs err < ${ABS_TOLERANCE} and rel err < ${REL_TOLERANCE}\n`);
  return passed ? 0 : 1;
}

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`char-rnn: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof TrainingError) {
      process.stderr.write(`char-rnn: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      throw error;
    }
  },
);
