import { loadCheckpoint } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { generate, randomSeed, sampleMany, unknownCharacters, type SampleOptions } from '../generate.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { fileError } from '../file-errors.js';
import { BEST_CHECKPOINT } from '../run-folder.js';
import { checkpointIn, requireNewestRun } from '../run-lookup.js';
import { encodeKnown } from '../symbols.js';
import { readTextFile } from '../text-file.js';
import { visibleText } from '../visible-text.js';

const SAMPLE_OPTIONS: readonly OptionSpec[] = [
  { name: 'checkpoint', kind: 'string', metavar: 'FILE', help: 'checkpoint file, or run folder (its best.ckpt), to sample from (default: the newest run under checkpoints/)' },
  { name: 'length', kind: 'int', default: 1000, min: 0, help: 'characters to generate after the prime' },
  { name: 'temperature', kind: 'number', default: 1, min: 0, help: 'divides the scores before the softmax: lower is safer, 0 always takes the likeliest' },
  { name: 'top-k', kind: 'int', min: 1, help: 'draw only among the N likeliest characters' },
  { name: 'top-p', kind: 'number', min: 0, minExclusive: true, max: 1, help: 'draw only among the likeliest characters whose probabilities add up to N (nucleus)' },
  { name: 'prime', kind: 'string', help: 'text to start from: the model reads it first, and it is printed first' },
  { name: 'prime-file', kind: 'string', metavar: 'FILE', help: 'a UTF-8 file whose text is the prime' },
  { name: 'skip-unknown', kind: 'flag', help: 'drop prime characters the checkpoint does not know (with a warning) instead of stopping' },
  { name: 'seed', kind: 'int', min: 0, max: 0xffffffff, help: 'seed of the draws: the same seed gives the same text (default: random, shown on stderr)' },
  { name: 'count', kind: 'int', default: 1, min: 1, help: 'samples to draw, four at a time in lockstep; sample i (from 0) is the one --seed SEED+i gives alone, each under a header line naming its seed' },
];

export function sampleHelp(): string {
  return `usage: char-rnn sample [options]\n\nWrites text drawn from a trained model to stdout.\n\n${optionsHelp(SAMPLE_OPTIONS)}`;
}

export async function runSample(argv: readonly string[]): Promise<number> {
  const v = parseOptions('sample', SAMPLE_OPTIONS, argv).values;
  const skipUnknown = v['skip-unknown'] === true;
  const prime = await readPrime(v.prime as string | undefined, v['prime-file'] as string | undefined);
  const path = checkpointIn((v.checkpoint as string | undefined) ?? requireNewestRun(), BEST_CHECKPOINT);
  const checkpoint = await loadCheckpoint(path);
  if (v.checkpoint === undefined) process.stderr.write(`sampling from ${path}\n`);

  const { unknown } = encodeKnown(prime, checkpoint.model.vocab);
  if (unknown.length > 0) {
    if (!skipUnknown) throw new UserError(`${unknownCharacters(unknown)} (use only characters the model was trained on, or pass --skip-unknown to drop them)`);
    process.stderr.write(`char-rnn: warning: ${unknownCharacters(unknown)}; dropped them (--skip-unknown)\n`);
  }
  let seed = v.seed as number | undefined;
  if (seed === undefined) {
    seed = randomSeed();
    // At temperature 0 nothing is drawn: the text is the same whatever the seed.
    if (v.temperature !== 0) process.stderr.write(`seed: ${seed} (pass --seed ${seed} to reproduce)\n`);
  }
  const options: SampleOptions = {
    length: v.length as number,
    temperature: v.temperature as number,
    topK: v['top-k'] as number | undefined,
    topP: v['top-p'] as number | undefined,
    prime,
    seed,
    skipUnknown,
  };
  const count = v.count as number;
  const chunks = count === 1 ? generate(checkpoint, options) : headed(sampleMany(checkpoint, { ...options, count }), seed);
  // On a terminal, control characters from the corpus would move the cursor or vanish; a pipe gets the exact text.
  const terminal = process.stdout.isTTY === true;
  let endsLine = true; // nothing written leaves the prompt's line clear
  const shown = map(chunks, (chunk) => {
    if (chunk !== '') endsLine = chunk.endsWith('\n');
    return terminal ? visibleText(chunk) : chunk;
  });
  const finished = await writeChunks(process.stdout, shown);
  // The prompt after the text starts a line of its own; a pipe gets no character the model did not draw.
  if (finished && terminal && !endsLine) process.stdout.write('\n');
  return 0;
}

async function readPrime(prime: string | undefined, primeFile: string | undefined): Promise<string> {
  if (primeFile === undefined) return prime ?? '';
  if (prime !== undefined) throw new UserError(`pass --prime or --prime-file, not both`);
  return readTextFile(primeFile, 'prime file');
}

/**
 * Writes each chunk once the one before it is handed to the system, so memory stays flat however
 * slow the reader. Returns false when the reader went away (EPIPE: '| head' has all it wants),
 * which is a normal end; any other write error is thrown.
 */
async function writeChunks(out: NodeJS.WriteStream, chunks: Iterable<string>): Promise<boolean> {
  let failure: NodeJS.ErrnoException | undefined;
  const onError = (error: NodeJS.ErrnoException): void => {
    failure ??= error;
  };
  // Stays attached once a write failed: the stream emits 'error' after the write's callback.
  out.on('error', onError);
  for (const chunk of chunks) {
    await new Promise<void>((resolve) => {
      out.write(chunk, (error) => {
        if (error) failure ??= error;
        resolve();
      });
    });
    if (failure !== undefined) break;
  }
  if (failure === undefined) {
    out.off('error', onError);
    return true;
  }
  if (failure.code === 'EPIPE') return false;
  throw fileError(failure, 'cannot write the sample to standard output', 'write it somewhere with free space');
}

/** Each sample under a line naming it and its seed, and ending in a newline. */
function* headed(samples: readonly string[], seed: number): Iterable<string> {
  for (const [i, text] of samples.entries()) {
    yield `----- sample ${i + 1} of ${samples.length}, seed ${(seed + i) % 2 ** 32} -----\n`;
    yield text;
    yield '\n';
  }
}

function* map<T, U>(items: Iterable<T>, f: (item: T) => U): Iterable<U> {
  for (const item of items) yield f(item);
}
