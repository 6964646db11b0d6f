import { fieldName, flagName, TRAIN_OPTIONS, trainRequest, type FieldName, type TrainRequest } from '../config.js';
import { UserError } from '../errors.js';
import type { OptimizerName } from '../model/optimizers.js';
import { parseOptions } from '../options.js';
import type { Dtype } from '../model/precision.js';
import type { LrSchedule } from '../train/schedule.js';

/** A corpus given as a string instead of a file. */
export interface CorpusText {
  /** The text to train on. */
  readonly text: string;
  /** What the checkpoints record as its source, and errors name it by (default 'the text given to train()'). */
  readonly name?: string;
}

/**
 * The options of `char-rnn train`, named as its flags in camelCase, with the same defaults and
 * bounds (see `char-rnn train --help`); validated exactly as the CLI validates them.
 */
export interface TrainFlags {
  /** Defaults for the options not given: 'default', or 'seed' (the original assignment exactly). */
  readonly preset?: string;
  /** A UTF-8 text file or a folder of them, several such paths joined in order, or `{ text }`; default: the bundled State of the Union addresses. */
  readonly corpus?: string | readonly string[] | CorpusText;
  /** Start a new run from this checkpoint's weights (fine-tuning). */
  readonly initFrom?: string;
  /** With initFrom: append the characters of the new text that the checkpoint lacks to its vocabulary (else they are refused). */
  readonly extendVocab?: boolean;
  /** The recurrent cell: 'rnn', 'lstm', 'gru' or 'mgu' (default 'gru'). */
  readonly cell?: string;
  /** Stacked layers L (the gated cells: lstm, gru, mgu; default 2, rnn 1). */
  readonly layers?: number;
  /** Hidden units H per layer (default 128, rnn 100). */
  readonly hidden?: number;
  /** Dropout probability on the input of each layer above the first and on the top layer's output (the gated cells; default 0). */
  readonly dropout?: number;
  /** The precision of activations, products and gradients: 'float64' or 'float32' (default float32 for the gated cells, float64 for rnn). */
  readonly dtype?: Dtype;
  /** Characters per sequence T, the BPTT length (default 50, rnn 25). */
  readonly seqLength?: number;
  /** Contiguous streams B trained side by side; the gradient is their mean (default 32, rnn 16). */
  readonly streams?: number;
  /** Worker threads (default: the available cores, at most streams); the numbers do not depend on it. */
  readonly threads?: number;
  /** Passes over the training text (default 1). */
  readonly epochs?: number;
  /** Stop after this many steps instead of epochs. */
  readonly steps?: number;
  /** Stop once this many minutes have gone into training (alone: however many epochs fit). */
  readonly minutes?: number;
  /** Stop after this many evaluations without a new best validation loss (default 0: never). */
  readonly patience?: number;
  /** 'adagrad', 'rmsprop' or 'adam' (default adam, rnn adagrad). */
  readonly optimizer?: OptimizerName;
  /** The learning rate (default: the optimizer's). */
  readonly eta?: number;
  /** The optimizer's epsilon (default 1e-8). */
  readonly eps?: number;
  /** RMSProp's decay of its mean square (default 0.95). */
  readonly decay?: number;
  /** Adam's decay of its mean gradient (default 0.9). */
  readonly beta1?: number;
  /** Adam's decay of its mean square (default 0.999). */
  readonly beta2?: number;
  /** 'constant', 'step' (times lrDecay every lrDecayEvery steps) or 'cosine' (down to lrMin over the run). */
  readonly lrSchedule?: LrSchedule;
  /** Step schedule: the factor per period (default 0.97). */
  readonly lrDecay?: number;
  /** Step schedule: steps per period (default 0: each epoch). */
  readonly lrDecayEvery?: number;
  /** Cosine schedule: the learning rate it ends at (default 0). */
  readonly lrMin?: number;
  /** Raise the learning rate linearly over the first N steps (default 0). */
  readonly warmupSteps?: number;
  /** Clip every gradient entry to [-clip, clip] (default 5). */
  readonly clip?: number;
  /** First scale the mean gradient down to this norm when longer (default 0: off). */
  readonly clipNorm?: number;
  /** Seed of the PRNG: the initial weights, dropout and samples (default 1). Same seed and options, same numbers. */
  readonly seed?: number;
  /** Fraction of the text, at its end, held out for validation (default 0.05). */
  readonly valFrac?: number;
  /** Steps between validation losses (0: only at the end; default: about 10 a run with `minutes`, else 2000). */
  readonly evalEvery?: number;
  /** Steps between samples (0: none; default: about 5 a run with `minutes`, else 1000). */
  readonly sampleEvery?: number;
  /** Characters per sample (default 200). */
  readonly sampleLength?: number;
  /** Temperature of the samples (default 1). */
  readonly sampleTemperature?: number;
  /** Steps between saves of last.ckpt (default 1000; 0: only at the end). */
  readonly checkpointEvery?: number;
  /** The run's folder (default: a new folder checkpoints/run-N; resuming: the checkpoint's folder). */
  readonly out?: string;
  /** Let a new run replace the run already in `out`. */
  readonly force?: boolean;
  /** Do not write report.html, loss.svg and loss.png at the end. */
  readonly noReport?: boolean;
  /** Check the gradients on a problem of the run's size and put the figures in the report. */
  readonly gradcheck?: boolean;
}

/** What only a program can pass. */
export interface LibraryOptions {
  /** Aborting stops the run after the current step and saves last.ckpt; the report is then skipped. */
  readonly signal?: AbortSignal;
  /** Show the progress bar and the loading lines, as the CLI does, on this stream (true: stderr; default: nothing is written). */
  readonly progress?: boolean | NodeJS.WritableStream;
}

export type TrainOptions = TrainFlags & LibraryOptions;

/** What resume() takes: the length and bookkeeping options a resumed run may change; the math options are the checkpoint's. */
export type ResumeOptions = Omit<TrainOptions, 'preset' | 'initFrom' | 'extendVocab' | 'force'>;

/** A flag's key among the library's options: every option of the table but --resume, which is resume()'s argument. */
type FlagKey = FieldName<Exclude<(typeof TRAIN_OPTIONS)[number]['name'], 'resume'>>;

/** Every key of TrainFlags, in the table's order. */
export const FLAG_KEYS: readonly FlagKey[] = TRAIN_OPTIONS.filter((option) => option.name !== 'resume').map((option) => fieldName(option.name) as FlagKey);

// Fails to compile when TrainFlags lacks an option of the table, or has a key that is none.
const everyFlagListed: [Exclude<keyof TrainFlags, FlagKey>, Exclude<FlagKey, keyof TrainFlags>] extends [never, never] ? true : never = true;
void everyFlagListed;

const LIBRARY_KEYS: readonly (keyof LibraryOptions)[] = ['signal', 'progress'];

/**
 * The request the CLI would make of the same flags: the options become argv and go through the
 * CLI's own parser, so that every bound, default and combination is checked as there.
 */
export function requestFrom(options: TrainOptions, resumeFrom?: string): { request: TrainRequest; text: CorpusText | undefined } {
  if (typeof options !== 'object' || options === null) throw new UserError(`train options must be an object, got ${String(options)}`);
  const allowed = new Set<string>([...(resumeFrom === undefined ? FLAG_KEYS : FLAG_KEYS.filter((key) => !RESUME_REFUSES.has(key))), ...LIBRARY_KEYS]);
  const argv: string[] = resumeFrom === undefined ? [] : [`--resume=${resumeFrom}`];
  let text: CorpusText | undefined;
  for (const [key, value] of Object.entries(options)) {
    if (!allowed.has(key)) {
      const why = RESUME_REFUSES.has(key) && resumeFrom !== undefined ? 'resume() continues a run with its own options' : `the options are ${FLAG_KEYS.join(', ')}, ${LIBRARY_KEYS.join(', ')}`;
      throw new UserError(`unknown train option '${key}' (${why})`);
    }
    if (value === undefined || LIBRARY_KEYS.includes(key as keyof LibraryOptions)) continue;
    if (key === 'corpus' && Array.isArray(value)) {
      for (const path of value as unknown[]) argv.push(...flagArgs(key, path));
      continue;
    }
    if (key === 'corpus' && typeof value === 'object' && value !== null) {
      text = corpusText(value as CorpusText);
      continue;
    }
    argv.push(...flagArgs(key, value));
  }
  return { request: trainRequest(parseOptions('train', TRAIN_OPTIONS, argv)), text };
}

const RESUME_REFUSES: ReadonlySet<string> = new Set(['preset', 'initFrom', 'extendVocab', 'force']);

/** The argv of one option, after checking its JavaScript type against the kind of its flag. */
function flagArgs(key: string, value: unknown): string[] {
  const flag = flagName(key);
  const spec = TRAIN_OPTIONS.find((option) => `--${option.name}` === flag);
  if (spec === undefined) throw new Error(`option ${key} is missing from TRAIN_OPTIONS`);
  const expected = spec.kind === 'flag' ? 'boolean' : spec.kind === 'string' ? 'string' : 'number';
  if (typeof value !== expected) {
    const what = key === 'corpus' ? 'a path, a list of paths or { text }' : `a ${expected}`;
    throw new UserError(`option ${key} (${flag}) must be ${what}, got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  }
  if (spec.kind === 'flag') return value === true ? [flag] : [];
  // '=' keeps a value that starts with '-' the option's own, as parseArgs reads it
  return [`${flag}=${String(value)}`];
}

function corpusText(value: CorpusText): CorpusText {
  if (typeof value.text !== 'string') throw new UserError("option corpus must be a path or { text: '...' }, got an object without text");
  if (value.name !== undefined && typeof value.name !== 'string') throw new UserError('option corpus.name must be a string');
  return value;
}
