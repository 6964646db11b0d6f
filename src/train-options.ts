import type { CorpusSource } from './corpus.js';
import type { OptionSpec } from './option-spec.js';
import type { CellDefaults, CellDescriptor } from './model/cells/cell.js';
import { CELL_NAMES, cellList, cellNamed } from './model/cells/registry.js';
import { DEFAULT_ETA, OPTIMIZER_NAMES, type OptimizerName } from './model/optimizers.js';
import { DTYPES, type Dtype } from './model/precision.js';
import { BUDGET_EVALUATIONS, BUDGET_SAMPLES, DEFAULT_EVAL_EVERY, DEFAULT_SAMPLE_EVERY } from './train/intervals.js';
import type { LrSchedule } from './train/schedule.js';

/*
 * The options of a training run and their flags' table: plain data, with no Node module behind
 * it, so that the checkpoint decoder (which checks a file's options against these bounds) runs in
 * a browser. commands/train.ts parses argv against the table; config.ts builds a run's config.
 */

/** Everything a training run needs to know, validated once at the edge and frozen. */
export interface TrainConfig {
  readonly corpus: CorpusSource | undefined; // undefined: the bundled State of the Union corpus
  readonly cell: string; // a registered cell's name (src/model/cells/registry.ts)
  readonly layers: number;
  readonly hidden: number;
  readonly dropout: number; // in [0, 1): on the input of every layer above the first and on the top layer's output
  readonly dtype: Dtype; // the kernels' precision (src/model/precision.ts)
  readonly seqLength: number;
  readonly streams: number;
  readonly threads: number;
  readonly epochs: number; // Infinity: --minutes alone bounds the run
  readonly steps: number | undefined; // when set, bounds the run instead of epochs
  readonly optimizer: OptimizerName;
  readonly eta: number;
  readonly eps: number;
  readonly clip: number;
  readonly clipNorm: number; // 0: no global-norm clip
  readonly decay: number; // rmsprop
  readonly beta1: number; // adam
  readonly beta2: number; // adam
  readonly lrSchedule: LrSchedule;
  readonly lrDecay: number; // step schedule: the factor per period
  readonly lrDecayEvery: number; // step schedule: steps per period; 0: each epoch
  readonly lrMin: number; // cosine schedule: the floor
  readonly warmupSteps: number;
  readonly patience: number; // 0: never stop early
  readonly minutes: number | undefined; // a budget of wall-clock training time, all sessions of the run together
  readonly seed: number;
  readonly valFrac: number;
  readonly evalEvery: number | undefined; // 0: only at the end; undefined: as the time budget allows, or the default (src/train/intervals.ts)
  readonly sampleEvery: number | undefined; // 0: never during training; undefined: as evalEvery
  readonly sampleLength: number;
  readonly sampleTemperature: number;
  readonly checkpointEvery: number; // 0: only at the end
  readonly out: string;
}

/**
 * Named sets of defaults. `seed` is the university assignment the product grew from: one stream
 * of a vanilla RNN of 100 units, 25 characters a step, AdaGrad at 0.1, every entry clipped to 5,
 * the whole text trained on and the weights with the lowest smooth loss kept.
 */
export const PRESETS: Readonly<Record<string, Partial<TrainConfig>>> = {
  default: {},
  seed: { cell: 'rnn', layers: 1, hidden: 100, dropout: 0, seqLength: 25, streams: 1, optimizer: 'adagrad', eta: 0.1, clip: 5, lrSchedule: 'constant', warmupSteps: 0, valFrac: 0 },
};

/** The cell trained unless told: the winner of the five-minute race (docs/benchmarks.md, "The race"). */
export const DEFAULT_CELL = 'gru';

/** What each cell trains with unless told, from its descriptor (src/model/cells). */
export const CELL_DEFAULTS: Readonly<Record<string, CellDefaults>> = Object.fromEntries(CELL_NAMES.map((name) => [name, cellNamed(name).defaults]));

/** What files from before the time budget was saved hold for --minutes alone: more epochs than any budget held. */
export const OLD_UNBOUNDED_EPOCHS = 1_000_000;

/** The cells that take --layers and --dropout, for --help. */
const STACKING = cellList((cell) => cell.stacks, 'and');

/** Dropout masks are keyed by layer in 8 bits (src/model/dropout.ts); 16 layers is deeper than any char model needs. */
export const MAX_LAYERS = 16;

/**
 * What an option is to a run, which says where it is kept and what a resume does with it:
 * math changes the numbers (saved in the checkpoint; a resumed run may not change it);
 * bookkeeping is how long, how often and on how many threads (saved; a resumed run may change it,
 * and keeps the saved value unless told); paths say where the run reads its text and writes its
 * files (in the config, not saved as options); request says how to start and what to write at
 * the end (in the TrainRequest, not the config).
 */
export type OptionRole = 'math' | 'bookkeeping' | 'paths' | 'request';

/**
 * One option of 'char-rnn train': its flag, its role, and for a saved one where the checkpoint
 * keeps it: the TrainOptions field of its camel-cased name (proto/checkpoint.proto, snake-cased
 * there), unless `checkpoint` names another. `oldFiles` is what a file from before the option
 * reads as: one that lacks the field, which for a field that is not `optional` is one that holds
 * proto3's zero (0 or ''), since that is how an absent field decodes.
 */
export type TrainOption = OptionSpec & {
  readonly role: OptionRole;
  readonly checkpoint?: `Model.${string}`;
  readonly oldFiles?: number | string | undefined;
};

export const TRAIN_OPTIONS = [
  { name: 'preset', group: 'start', role: 'request', kind: 'string', default: 'default', metavar: 'NAME', help: `defaults for the options not given: ${Object.keys(PRESETS).join(', ')} (seed: the assignment exactly)` },
  { name: 'corpus', group: 'data', role: 'paths', kind: 'string', multiple: true, metavar: 'PATH', help: 'UTF-8 text file, or folder of them, to train on; repeat it to join several in order (default: the bundled State of the Union addresses)' },
  { name: 'resume', group: 'start', role: 'request', kind: 'string', metavar: 'FILE', help: 'continue the run saved in this checkpoint exactly where it stopped' },
  { name: 'init-from', group: 'start', role: 'request', kind: 'string', metavar: 'FILE', help: 'start a new run from this checkpoint\'s weights (fine-tuning on a text with the same vocabulary)' },
  { name: 'extend-vocab', group: 'start', role: 'request', kind: 'flag', help: 'with --init-from: add the new text\'s characters that the checkpoint lacks, their weights drawn as a new model\'s (default: refuse them)' },
  { name: 'cell', group: 'model', role: 'math', checkpoint: 'Model.cell', kind: 'string', default: DEFAULT_CELL, metavar: 'NAME', help: `recurrent cell: ${CELL_NAMES.join(', ')}` },
  { name: 'layers', group: 'model', role: 'math', checkpoint: 'Model.layers', kind: 'int', min: 1, max: MAX_LAYERS, help: `stacked layers L (${STACKING}; default: ${cellDefaultsHelp('layers')})` },
  { name: 'hidden', group: 'model', role: 'math', checkpoint: 'Model.hidden', kind: 'int', min: 1, max: 4096, help: `hidden units H per layer (default: ${cellDefaultsHelp('hidden')})` },
  { name: 'dropout', group: 'model', role: 'math', oldFiles: 0, kind: 'number', default: 0, min: 0, max: 0.95, help: `dropout probability on the input of each layer above the first and on the top layer's output, in training only (${STACKING})` },
  { name: 'dtype', group: 'model', role: 'math', oldFiles: 'float64', kind: 'string', metavar: 'NAME', help: `${DTYPES.join(' or ')}: the precision of the activations, products and gradients; the weights and the optimizer stay float64 (default: the cell's: ${byCell((cell) => cell.dtypes[0])})` },
  { name: 'seq-length', group: 'data', role: 'math', kind: 'int', min: 1, max: 100000, help: `characters per sequence T (BPTT length; default: ${cellDefaultsHelp('seqLength')})` },
  { name: 'streams', group: 'data', role: 'math', kind: 'int', min: 1, max: 4096, help: `contiguous streams B trained side by side; the gradient is their mean (default: ${cellDefaultsHelp('streams')})` },
  { name: 'threads', group: 'data', role: 'bookkeeping', kind: 'int', min: 1, max: 1024, help: 'worker threads (default: available cores, at most --streams)' },
  { name: 'epochs', group: 'length', role: 'bookkeeping', oldFiles: Infinity, kind: 'int', default: 1, min: 1, help: 'passes over the training text' },
  { name: 'steps', group: 'length', role: 'bookkeeping', kind: 'int', min: 1, help: 'stop after this many steps instead (one step = one sequence per stream)' },
  { name: 'minutes', group: 'length', role: 'bookkeeping', oldFiles: undefined, kind: 'number', min: 0, minExclusive: true, help: 'stop once this much time has gone into training (without --epochs or --steps: however many epochs fit)' },
  { name: 'patience', group: 'length', role: 'bookkeeping', oldFiles: 0, kind: 'int', default: 0, min: 0, help: 'stop after N evaluations without a new best validation loss (0: never)' },
  { name: 'optimizer', group: 'optimizer', role: 'math', oldFiles: 'adagrad', kind: 'string', metavar: 'NAME', help: `${OPTIMIZER_NAMES.join(', ')} (default: ${cellDefaultsHelp('optimizer')})` },
  { name: 'eta', group: 'optimizer', role: 'math', kind: 'number', min: 0, minExclusive: true, help: `learning rate (default ${OPTIMIZER_NAMES.map((name) => `${name} ${DEFAULT_ETA[name]}`).join(', ')})` },
  { name: 'eps', group: 'optimizer', role: 'math', kind: 'number', default: 1e-8, min: 0, minExclusive: true, help: 'the optimizer\'s epsilon' },
  { name: 'decay', group: 'optimizer', role: 'math', oldFiles: 0.95, kind: 'number', default: 0.95, min: 0, max: 0.9999, help: 'RMSProp\'s decay of its mean square (char-rnn\'s decay_rate)' },
  { name: 'beta1', group: 'optimizer', role: 'math', oldFiles: 0.9, kind: 'number', default: 0.9, min: 0, max: 0.9999, help: 'Adam\'s decay of its mean gradient' },
  { name: 'beta2', group: 'optimizer', role: 'math', oldFiles: 0.999, kind: 'number', default: 0.999, min: 0, max: 0.999999, help: 'Adam\'s decay of its mean square' },
  { name: 'lr-schedule', group: 'schedule', role: 'math', oldFiles: 'constant', kind: 'string', default: 'constant', metavar: 'NAME', help: 'constant; step (times --lr-decay every --lr-decay-every steps); cosine (down to --lr-min over the run)' },
  { name: 'lr-decay', group: 'schedule', role: 'math', oldFiles: 0.97, kind: 'number', default: 0.97, min: 0, minExclusive: true, max: 1, help: 'step schedule: the factor per period (char-rnn\'s learning_rate_decay)' },
  { name: 'lr-decay-every', group: 'schedule', role: 'math', oldFiles: 0, kind: 'int', default: 0, min: 0, help: 'step schedule: steps per period (0: each epoch, as char-rnn)' },
  { name: 'lr-min', group: 'schedule', role: 'math', oldFiles: 0, kind: 'number', default: 0, min: 0, help: 'cosine schedule: the learning rate it ends at' },
  { name: 'warmup-steps', group: 'schedule', role: 'math', oldFiles: 0, kind: 'int', default: 0, min: 0, help: 'raise the learning rate linearly over the first N steps' },
  { name: 'clip', group: 'optimizer', role: 'math', kind: 'number', default: 5, min: 0, minExclusive: true, help: 'clip every gradient entry to [-clip, clip]' },
  { name: 'clip-norm', group: 'optimizer', role: 'math', oldFiles: 0, kind: 'number', default: 0, min: 0, help: 'first scale the mean gradient down to this norm when it is longer, as PyTorch\'s clip_grad_norm_ (0: off)' },
  { name: 'seed', group: 'start', role: 'math', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the PRNG (weights init and samples)' },
  { name: 'val-frac', group: 'data', role: 'math', kind: 'number', default: 0.05, min: 0, max: 0.5, help: 'fraction of the text, at its end, held out for validation' },
  { name: 'eval-every', group: 'progress', role: 'bookkeeping', kind: 'int', min: 0, help: `steps between validation losses (0: only at the end; default: about ${BUDGET_EVALUATIONS} a run with --minutes, else ${DEFAULT_EVAL_EVERY})` },
  { name: 'sample-every', group: 'progress', role: 'bookkeeping', kind: 'int', min: 0, help: `steps between printed samples (0: none; default: about ${BUDGET_SAMPLES} a run with --minutes, else ${DEFAULT_SAMPLE_EVERY})` },
  { name: 'sample-length', group: 'progress', role: 'bookkeeping', kind: 'int', default: 200, min: 1, max: 1000000, help: 'characters per printed sample' },
  { name: 'sample-temperature', group: 'progress', role: 'bookkeeping', oldFiles: 1, kind: 'number', default: 1, min: 0, minExclusive: true, max: 100, help: 'temperature of the printed samples: below 1 likelier, above 1 more varied text; training is the same' },
  { name: 'checkpoint-every', group: 'output', role: 'bookkeeping', kind: 'int', default: 1000, min: 0, help: 'steps between saves of <out>/last.ckpt (0: only at the end)' },
  { name: 'out', group: 'output', role: 'paths', kind: 'string', metavar: 'DIR', help: 'folder for this run\'s files (default: a new folder checkpoints/run-N; with --resume: the checkpoint\'s folder)' },
  { name: 'force', group: 'output', role: 'request', kind: 'flag', help: 'let a new run replace the run already in --out (its checkpoints, history and report)' },
  { name: 'no-report', group: 'output', role: 'request', kind: 'flag', help: 'do not write <out>/report.html, loss.svg and loss.png at the end' },
  { name: 'gradcheck', group: 'output', role: 'request', kind: 'flag', help: 'check the gradients on a problem of the run\'s size and put the figures in the report' },
] as const satisfies readonly TrainOption[];

/** seq-length -> seqLength: an option's field in the config, the checkpoint and the library's options. */
export type FieldName<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<FieldName<Tail>>}` : S;
type Entry = (typeof TRAIN_OPTIONS)[number];

/** The config fields of the options of these roles. */
export type FieldsOf<R extends OptionRole> = FieldName<Extract<Entry, { readonly role: R }>['name']>;

/** The options a checkpoint keeps in its TrainOptions message, under their own names. */
export type SavedField = FieldName<Exclude<Extract<Entry, { readonly role: 'math' | 'bookkeeping' }>, { readonly checkpoint: string }>['name']>;

/** The saved options with neither a flag default nor a value for old files. */
export type NoFallbackField = FieldName<
  Exclude<Extract<Entry, { readonly role: 'math' | 'bookkeeping' }>, { readonly checkpoint: string } | { readonly default: unknown } | { readonly oldFiles: unknown }>['name']
>;

// Fails to compile when TrainConfig has a field that no option of the table fills, or the table an option that TrainConfig lacks.
type ConfigField = FieldsOf<'math' | 'bookkeeping' | 'paths'>;
const configMatchesTable: [Exclude<keyof TrainConfig, ConfigField>, Exclude<ConfigField, keyof TrainConfig>] extends [never, never] ? true : never = true;
void configMatchesTable;

export function fieldName<S extends string>(name: S): FieldName<S> {
  return name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase()) as FieldName<S>;
}

function fieldsOf<R extends OptionRole>(...roles: R[]): FieldsOf<R>[] {
  return TRAIN_OPTIONS.filter((option) => (roles as OptionRole[]).includes(option.role)).map((option) => fieldName(option.name) as FieldsOf<R>);
}

/** Options that change the numbers a run computes: a resumed run may not change them. */
export const MATH_OPTIONS: readonly FieldsOf<'math'>[] = fieldsOf('math');

/** Options a resumed run may change, and keeps from its checkpoint unless told. */
export const BOOKKEEPING_OPTIONS: readonly FieldsOf<'bookkeeping'>[] = fieldsOf('bookkeeping');

/** The options that make the config; the rest (role request) say how to start and what to write. */
export const CONFIG_OPTIONS: readonly TrainOption[] = TRAIN_OPTIONS.filter((option) => option.role !== 'request');

/** The options that fix the shapes of a model's tensors, which the checkpoint keeps in its Model. */
export type ModelField = FieldName<Extract<Entry, { readonly checkpoint: string }>['name']>;
export const MODEL_OPTIONS: readonly ModelField[] = TRAIN_OPTIONS.filter((option) => 'checkpoint' in option).map((option) => fieldName(option.name) as ModelField);

/** The options a checkpoint keeps in TrainOptions, each with its flag's declaration. */
export const SAVED_OPTIONS: readonly (TrainOption & { readonly field: SavedField })[] = TRAIN_OPTIONS.filter(
  (option) => (option.role === 'math' || option.role === 'bookkeeping') && !('checkpoint' in option),
).map((option) => ({ ...option, field: fieldName(option.name) as SavedField }));

/** 'rnn 100; lstm, gru and mgu 128': one option's default for each cell, for --help. */
function cellDefaultsHelp(field: keyof (typeof CELL_DEFAULTS)[string]): string {
  return byCell((cell) => cell.defaults[field]);
}

/** The cells grouped by a value of theirs, for --help: 'rnn float64; lstm, gru and mgu float32'. */
function byCell(value: (cell: CellDescriptor) => unknown): string {
  const values = [...new Set(CELL_NAMES.map((name) => value(cellNamed(name))))];
  return values.map((shared) => `${cellList((cell) => value(cell) === shared, 'and')} ${String(shared)}`).join('; ');
}

/** The flag a config field comes from, for messages: seqLength -> --seq-length. */
export function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

