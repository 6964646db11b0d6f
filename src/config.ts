import { availableParallelism } from 'node:os';
import type { CheckpointOptions } from './checkpoint/index.js';
import { UserError } from './errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from './options.js';
import { CELL_NAMES, findCell } from './model/cells/registry.js';
import { DEFAULT_ETA, isOptimizerName, OPTIMIZER_NAMES, OPTIMIZER_OWN_OPTIONS, type OptimizerName } from './model/optimizers.js';
import { DTYPES, isDtype, type Dtype } from './model/precision.js';
import { RUNS_FOLDER } from './run-folder.js';
import { BUDGET_EVALUATIONS, BUDGET_SAMPLES, DEFAULT_EVAL_EVERY, DEFAULT_SAMPLE_EVERY, type Intervals } from './train/intervals.js';
import { isLrSchedule, LR_SCHEDULES, SCHEDULE_OWN_OPTIONS, type LrSchedule } from './train/schedule.js';

/** Everything a training run needs to know, validated once at the edge and frozen. */
export interface TrainConfig {
  readonly corpus: string | undefined; // undefined: the bundled State of the Union corpus
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

/**
 * What each cell trains with unless told. The RNN keeps the product's original defaults; the gated
 * cells take what won the race: 2 layers of 128, 32 streams of 50 characters, Adam.
 */
export const CELL_DEFAULTS: Readonly<Record<string, Pick<TrainConfig, 'layers' | 'hidden' | 'seqLength' | 'streams' | 'optimizer'>>> = {
  rnn: { layers: 1, hidden: 100, seqLength: 25, streams: 16, optimizer: 'adagrad' },
  lstm: { layers: 2, hidden: 128, seqLength: 50, streams: 32, optimizer: 'adam' },
  gru: { layers: 2, hidden: 128, seqLength: 50, streams: 32, optimizer: 'adam' },
};

/** What files from before the time budget was saved hold for --minutes alone: more epochs than any budget held. */
export const OLD_UNBOUNDED_EPOCHS = 1_000_000;

/** Dropout masks are keyed by layer in 8 bits (src/model/dropout.ts); 16 layers is deeper than any char model needs. */
export const MAX_LAYERS = 16;

/** Options that change the numbers a run computes: a resumed run may not change them. */
export const MATH_OPTIONS = [
  'cell', 'layers', 'hidden', 'dropout', 'dtype', 'seqLength', 'streams', 'optimizer', 'eta', 'eps', 'clip', 'clipNorm', 'decay', 'beta1', 'beta2',
  'lrSchedule', 'lrDecay', 'lrDecayEvery', 'lrMin', 'warmupSteps', 'seed', 'valFrac',
] as const;

export const TRAIN_OPTIONS: readonly OptionSpec[] = [
  { name: 'preset', kind: 'string', default: 'default', metavar: 'NAME', help: `defaults for the options not given: ${Object.keys(PRESETS).join(', ')} (seed: the assignment exactly)` },
  { name: 'corpus', kind: 'string', metavar: 'FILE', help: 'UTF-8 text file to train on (default: the bundled State of the Union addresses)' },
  { name: 'resume', kind: 'string', metavar: 'FILE', help: 'continue the run saved in this checkpoint exactly where it stopped' },
  { name: 'init-from', kind: 'string', metavar: 'FILE', help: 'start a new run from this checkpoint\'s weights (fine-tuning on a text with the same vocabulary)' },
  { name: 'cell', kind: 'string', default: DEFAULT_CELL, metavar: 'NAME', help: `recurrent cell: ${CELL_NAMES.join(', ')}` },
  { name: 'layers', kind: 'int', min: 1, max: MAX_LAYERS, help: `stacked layers L (lstm and gru; default: ${cellDefaultsHelp('layers')})` },
  { name: 'hidden', kind: 'int', min: 1, max: 4096, help: `hidden units H per layer (default: ${cellDefaultsHelp('hidden')})` },
  { name: 'dropout', kind: 'number', default: 0, min: 0, max: 0.95, help: 'dropout probability on the input of each layer above the first and on the top layer\'s output, in training only (lstm and gru)' },
  { name: 'dtype', kind: 'string', metavar: 'NAME', help: `${DTYPES.join(' or ')}: the precision of the activations, products and gradients; the weights and the optimizer stay float64 (default: the cell's, float32 for lstm and gru, float64 for rnn)` },
  { name: 'seq-length', kind: 'int', min: 1, max: 100000, help: `characters per sequence T (BPTT length; default: ${cellDefaultsHelp('seqLength')})` },
  { name: 'streams', kind: 'int', min: 1, max: 4096, help: `contiguous streams B trained side by side; the gradient is their mean (default: ${cellDefaultsHelp('streams')})` },
  { name: 'threads', kind: 'int', min: 1, max: 1024, help: 'worker threads (default: available cores, at most --streams)' },
  { name: 'epochs', kind: 'int', default: 1, min: 1, help: 'passes over the training text' },
  { name: 'steps', kind: 'int', min: 1, help: 'stop after this many steps instead (one step = one sequence per stream)' },
  { name: 'minutes', kind: 'number', min: 0, minExclusive: true, help: 'stop once this much time has gone into training (without --epochs or --steps: however many epochs fit)' },
  { name: 'patience', kind: 'int', default: 0, min: 0, help: 'stop after N evaluations without a new best validation loss (0: never)' },
  { name: 'optimizer', kind: 'string', metavar: 'NAME', help: `${OPTIMIZER_NAMES.join(', ')} (default: ${cellDefaultsHelp('optimizer')})` },
  { name: 'eta', kind: 'number', min: 0, minExclusive: true, help: `learning rate (default ${OPTIMIZER_NAMES.map((name) => `${name} ${DEFAULT_ETA[name]}`).join(', ')})` },
  { name: 'eps', kind: 'number', default: 1e-8, min: 0, minExclusive: true, help: 'the optimizer\'s epsilon' },
  { name: 'decay', kind: 'number', default: 0.95, min: 0, max: 0.9999, help: 'RMSProp\'s decay of its mean square (char-rnn\'s decay_rate)' },
  { name: 'beta1', kind: 'number', default: 0.9, min: 0, max: 0.9999, help: 'Adam\'s decay of its mean gradient' },
  { name: 'beta2', kind: 'number', default: 0.999, min: 0, max: 0.999999, help: 'Adam\'s decay of its mean square' },
  { name: 'lr-schedule', kind: 'string', default: 'constant', metavar: 'NAME', help: 'constant; step (times --lr-decay every --lr-decay-every steps); cosine (down to --lr-min over the run)' },
  { name: 'lr-decay', kind: 'number', default: 0.97, min: 0, minExclusive: true, max: 1, help: 'step schedule: the factor per period (char-rnn\'s learning_rate_decay)' },
  { name: 'lr-decay-every', kind: 'int', default: 0, min: 0, help: 'step schedule: steps per period (0: each epoch, as char-rnn)' },
  { name: 'lr-min', kind: 'number', default: 0, min: 0, help: 'cosine schedule: the learning rate it ends at' },
  { name: 'warmup-steps', kind: 'int', default: 0, min: 0, help: 'raise the learning rate linearly over the first N steps' },
  { name: 'clip', kind: 'number', default: 5, min: 0, minExclusive: true, help: 'clip every gradient entry to [-clip, clip]' },
  { name: 'clip-norm', kind: 'number', default: 0, min: 0, help: 'first scale the mean gradient down to this norm when it is longer, as PyTorch\'s clip_grad_norm_ (0: off)' },
  { name: 'seed', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the PRNG (weights init and samples)' },
  { name: 'val-frac', kind: 'number', default: 0.05, min: 0, max: 0.5, help: 'fraction of the text, at its end, held out for validation' },
  { name: 'eval-every', kind: 'int', min: 0, help: `steps between validation losses (0: only at the end; default: about ${BUDGET_EVALUATIONS} a run with --minutes, else ${DEFAULT_EVAL_EVERY})` },
  { name: 'sample-every', kind: 'int', min: 0, help: `steps between printed samples (0: none; default: about ${BUDGET_SAMPLES} a run with --minutes, else ${DEFAULT_SAMPLE_EVERY})` },
  { name: 'sample-length', kind: 'int', default: 200, min: 1, max: 1000000, help: 'characters per printed sample' },
  { name: 'sample-temperature', kind: 'number', default: 1, min: 0, minExclusive: true, max: 100, help: 'temperature of the printed samples: below 1 likelier, above 1 more varied text; training is the same' },
  { name: 'checkpoint-every', kind: 'int', default: 1000, min: 0, help: 'steps between saves of <out>/last.ckpt (0: only at the end)' },
  { name: 'out', kind: 'string', metavar: 'DIR', help: 'folder for this run\'s files (default: a new folder checkpoints/run-N; with --resume: the checkpoint\'s folder)' },
  { name: 'force', kind: 'flag', help: 'let a new run replace the run already in --out (its checkpoints, history and report)' },
  { name: 'no-report', kind: 'flag', help: 'do not write <out>/report.html, loss.svg and loss.png at the end' },
  { name: 'gradcheck', kind: 'flag', help: 'check the gradients on a problem of the run\'s size and put the figures in the report' },
];

/** What the user asked for: the options, which of them were typed, and where to start from. */
export interface TrainRequest {
  readonly config: TrainConfig;
  readonly given: ReadonlySet<keyof TrainConfig>;
  /** What the flags and the preset chose, before any default: --init-from fills in the rest from the checkpoint's cell. */
  readonly chosen: Partial<TrainConfig>;
  readonly resume: string | undefined;
  readonly initFrom: string | undefined;
  /** Write the run's report at the end (not with --no-report). */
  readonly report: boolean;
  /** Put a gradient check in the report. */
  readonly gradcheck: boolean;
  /** A new run may replace the files of the run already in --out. */
  readonly force: boolean;
}

/** Options of 'char-rnn train' that are not part of the run's config. */
const REQUEST_OPTIONS: ReadonlySet<string> = new Set(['resume', 'init-from', 'preset']);

export function parseTrainRequest(argv: readonly string[]): TrainRequest {
  const { values: v, given } = parseOptions('train', TRAIN_OPTIONS, argv);
  if (given.has('steps') && given.has('epochs')) throw new UserError('give --epochs or --steps, not both');
  if (given.has('resume') && given.has('init-from')) throw new UserError('give --resume or --init-from, not both');
  if (given.has('resume') && given.has('force')) throw new UserError('--force starts a new run over an old one; --resume continues a run: give one of them');
  if (given.has('no-report') && given.has('gradcheck')) throw new UserError('--gradcheck puts its figures in the report: drop --no-report or --gradcheck');
  if (given.has('resume') && given.has('preset')) throw new UserError('--preset fills in the options of a new run, and a resumed run keeps its own: drop --preset');
  if (given.has('minutes') && !given.has('epochs') && !given.has('steps') && v['lr-schedule'] === 'cosine') {
    throw new UserError('a cosine schedule needs the run\'s length, which --minutes alone does not fix: give --steps or --epochs too');
  }
  // Starting from a checkpoint, the model options come from it: they are checked once merged (commands/train.ts).
  const fromCheckpoint = given.has('resume') || given.has('init-from');
  // own properties only: '__proto__' and 'toString' are no presets
  const preset = Object.hasOwn(PRESETS, v.preset as string) ? PRESETS[v.preset as string] : undefined;
  if (preset === undefined) throw new UserError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${String(v.preset)}'`);
  // A preset fills in only what was not typed.
  const presetValues = Object.fromEntries(Object.entries(preset).filter(([field]) => !given.has(flagName(field).slice(2))));
  // Every option with a value is the config field of its camel-cased name; the rest say where to start and what to write.
  const fromFlags = Object.fromEntries(
    TRAIN_OPTIONS.filter((spec) => spec.kind !== 'flag' && !REQUEST_OPTIONS.has(spec.name)).map((spec) => [camel(spec.name), v[spec.name]]),
  ) as Partial<TrainConfig>;
  const chosen: Partial<TrainConfig> = {
    ...Object.fromEntries(Object.entries(fromFlags).filter(([field]) => given.has(flagName(field).slice(2)))),
    // a time budget alone bounds the run by time: as many epochs as fit
    ...(given.has('minutes') && !given.has('epochs') && !given.has('steps') ? { epochs: Infinity } : {}),
    ...presetValues,
  };
  const config = makeTrainConfig({ ...fromFlags, ...chosen }, { checkModel: !fromCheckpoint });
  const typed = new Set([...given].map((name) => camel(name) as keyof TrainConfig));
  if (!fromCheckpoint) checkFlagsApply(config, typed);
  return {
    config,
    given: typed,
    chosen,
    resume: v.resume as string | undefined,
    initFrom: v['init-from'] as string | undefined,
    report: v['no-report'] !== true,
    gradcheck: v.gradcheck === true,
    force: v.force === true,
  };
}

/** Defaults for everything not given, for library callers and tests. Threads beyond streams would idle. */
export function makeTrainConfig(partial: Partial<TrainConfig>, { checkModel = true } = {}): TrainConfig {
  const defaults = Object.fromEntries(
    TRAIN_OPTIONS.flatMap((spec) => (spec.kind !== 'flag' && spec.default !== undefined ? [[camel(spec.name), spec.default]] : [])),
  ) as Partial<TrainConfig>;
  const defined = Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
  const cell = (defined.cell ?? defaults.cell) as string;
  const given = { corpus: undefined, steps: undefined, minutes: undefined, out: RUNS_FOLDER, ...defaults, ...(Object.hasOwn(CELL_DEFAULTS, cell) ? CELL_DEFAULTS[cell] : {}), ...defined } as TrainConfig & { threads?: number; dtype?: Dtype };
  const merged = { ...given, dtype: given.dtype ?? defaultDtype(given.cell) };
  const threads = Math.min(merged.threads ?? availableParallelism(), merged.streams);
  if (checkModel) checkModelOptions(merged);
  if (!isOptimizerName(merged.optimizer)) throw new UserError(`--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, got '${String(merged.optimizer)}'`);
  const eta = (merged as { eta?: number }).eta ?? DEFAULT_ETA[merged.optimizer];
  if (!isLrSchedule(merged.lrSchedule)) throw new UserError(`--lr-schedule must be one of ${LR_SCHEDULES.join(', ')}, got '${String(merged.lrSchedule)}'`);
  if (merged.patience > 0 && merged.valFrac === 0) throw new UserError('--patience counts evaluations of the validation loss, and --val-frac 0 holds out none: drop one of them');
  if (merged.lrSchedule === 'cosine' && !(merged.lrMin <= eta)) throw new UserError(`--lr-min ${merged.lrMin} is above the learning rate ${eta}: the cosine schedule falls from --eta to --lr-min`);
  return Object.freeze({ ...merged, threads, eta });
}

/**
 * Refuses a typed flag that the run's other options make meaningless (another optimizer's
 * constant, another schedule's setting, patience without evaluations), naming what makes it so.
 * A run from a checkpoint is checked once its options are merged with the checkpoint's.
 */
export function checkFlagsApply(config: TrainConfig, given: ReadonlySet<keyof TrainConfig>, { resumed = false } = {}): void {
  const readOnlyBy = (field: keyof TrainConfig, choice: '--optimizer' | '--lr-schedule', value: string, readers: readonly string[]): void => {
    if (!given.has(field) || readers.includes(value)) return;
    // a resumed run keeps its optimizer and schedule; a new one may pick another
    const other = resumed || given.has(choice === '--optimizer' ? 'optimizer' : 'lrSchedule') ? '' : ` or pass ${readers.map((reader) => `${choice} ${reader}`).join(' or ')}`;
    throw new UserError(`${flagName(field)} does nothing with ${choice} ${value} (only ${readers.join(' and ')} read${readers.length === 1 ? 's' : ''} it): drop ${flagName(field)}${other}`);
  };
  for (const field of ['decay', 'beta1', 'beta2'] as const) {
    readOnlyBy(field, '--optimizer', config.optimizer, OPTIMIZER_NAMES.filter((name) => OPTIMIZER_OWN_OPTIONS[name].includes(field)));
  }
  for (const field of ['lrDecay', 'lrDecayEvery', 'lrMin'] as const) {
    readOnlyBy(field, '--lr-schedule', config.lrSchedule, LR_SCHEDULES.filter((name) => SCHEDULE_OWN_OPTIONS[name].includes(field)));
  }
  if (config.patience > 0 && config.evalEvery === 0) {
    throw new UserError('--patience counts evaluations of the validation loss, and --eval-every 0 makes none before the end: drop --patience or give --eval-every N');
  }
  if (given.has('evalEvery') && (config.evalEvery ?? 0) > 0 && config.valFrac === 0) {
    throw new UserError(`--eval-every ${config.evalEvery} evaluates the held-out text, and this run holds out none (--val-frac 0): drop --eval-every or give --val-frac`);
  }
}

/** 'rnn 100, lstm and gru 128': one option's default for each cell, for --help. */
function cellDefaultsHelp(field: keyof (typeof CELL_DEFAULTS)[string]): string {
  const byValue = new Map<unknown, string[]>();
  for (const [cell, values] of Object.entries(CELL_DEFAULTS)) byValue.set(values[field], [...(byValue.get(values[field]) ?? []), cell]);
  return [...byValue].map(([value, cells]) => `${cells.join(' and ')} ${String(value)}`).join(', ');
}

/** The precision a cell trains in unless told: the first of its dtypes (an unknown cell is refused later). */
export function defaultDtype(cell: string): Dtype {
  return findCell(cell)?.dtypes[0] ?? 'float64';
}

/** The model options together: a known cell, and layers, dropout and a precision only where the cell has them. */
export function checkModelOptions({ cell, layers, dropout, dtype }: Pick<TrainConfig, 'cell' | 'layers' | 'dropout' | 'dtype'>): void {
  const descriptor = findCell(cell);
  if (descriptor === undefined) throw new UserError(`--cell must be one of ${CELL_NAMES.join(', ')}, got '${cell}'`);
  if (!isDtype(dtype)) throw new UserError(`--dtype must be one of ${DTYPES.join(', ')}, got '${String(dtype)}'`);
  if (!descriptor.dtypes.includes(dtype)) throw new UserError(`--cell ${cell} computes in ${descriptor.dtypes.join(' or ')} only: use --cell lstm or --cell gru for --dtype ${dtype}`);
  if (descriptor.stacks) return;
  if (layers !== 1) throw new UserError(`--cell ${cell} is the seed's one-layer model: use --cell lstm or --cell gru for --layers ${layers}`);
  if (dropout !== 0) throw new UserError(`--cell ${cell} has no dropout: use --cell lstm or --cell gru for --dropout ${dropout}`);
}

export function trainHelp(): string {
  return `usage: char-rnn train [options]\n\n${optionsHelp(TRAIN_OPTIONS)}`;
}

/** The flag a config field comes from, for messages: seqLength -> --seq-length. */
export function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** What a checkpoint keeps of the run's options: those that change the math, and the schedule's horizon. */
export function checkpointOptions(c: TrainConfig & Intervals, lrHorizon: number): CheckpointOptions {
  return {
    seqLength: c.seqLength, streams: c.streams, optimizer: c.optimizer, eta: c.eta, eps: c.eps, clip: c.clip,
    clipNorm: c.clipNorm, decay: c.decay, beta1: c.beta1, beta2: c.beta2, seed: c.seed, valFrac: c.valFrac, dropout: c.dropout, dtype: c.dtype,
    lrSchedule: c.lrSchedule, lrDecay: c.lrDecay, lrDecayEvery: c.lrDecayEvery, lrMin: c.lrMin, lrHorizon, warmupSteps: c.warmupSteps,
    epochs: c.epochs, steps: c.steps, minutes: c.minutes, patience: c.patience, evalEvery: c.evalEvery, sampleEvery: c.sampleEvery, sampleLength: c.sampleLength, sampleTemperature: c.sampleTemperature,
    checkpointEvery: c.checkpointEvery, threads: c.threads,
  };
}
