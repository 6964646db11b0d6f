import { availableParallelism } from 'node:os';
import type { CheckpointOptions } from './checkpoint/index.js';
import { UserError } from './errors.js';
import type { ParsedOptions } from './options.js';
import { CELL_NAMES, cellList, findCell } from './model/cells/registry.js';
import { DEFAULT_ETA, isOptimizerName, OPTIMIZER_NAMES, OPTIMIZER_OWN_OPTIONS } from './model/optimizers.js';
import { DTYPES, isDtype, type Dtype } from './model/precision.js';
import { RUNS_FOLDER } from './run-folder.js';
import { CELL_DEFAULTS, CONFIG_OPTIONS, fieldName, flagName, PRESETS, SAVED_OPTIONS, type TrainConfig } from './train-options.js';
import type { Intervals } from './train/intervals.js';
import { isLrSchedule, LR_SCHEDULES, SCHEDULE_OWN_OPTIONS } from './train/schedule.js';

export * from './train-options.js';

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
  /** --init-from may add the text's characters that the checkpoint's vocabulary lacks. */
  readonly extendVocab: boolean;
}

/**
 * The request that the flags of 'char-rnn train', as parsed against TRAIN_OPTIONS, make: the CLI's
 * parser (commands/train.ts) and the library's options (api/options.ts) both come through here,
 * so that every combination is checked as one.
 */
export function trainRequest({ values: v, given }: ParsedOptions): TrainRequest {
  if (given.has('steps') && given.has('epochs')) throw new UserError('give --epochs or --steps, not both');
  if (given.has('resume') && given.has('init-from')) throw new UserError('give --resume or --init-from, not both');
  if (given.has('resume') && given.has('force')) throw new UserError('--force starts a new run over an old one; --resume continues a run: give one of them');
  if (given.has('no-report') && given.has('gradcheck')) throw new UserError('--gradcheck puts its figures in the report: drop --no-report or --gradcheck');
  if (given.has('extend-vocab') && !given.has('init-from')) throw new UserError('--extend-vocab adds characters to the vocabulary of the --init-from checkpoint: give --init-from too, or drop --extend-vocab');
  if (given.has('resume') && given.has('preset')) throw new UserError('--preset fills in the options of a new run, and a resumed run keeps its own: drop --preset');
  if (given.has('minutes') && !given.has('epochs') && !given.has('steps') && v['lr-schedule'] === 'cosine') {
    throw new UserError('a cosine schedule needs the run\'s length, which --minutes alone does not fix: give --steps or --epochs too');
  }
  // Starting from a checkpoint, the model options come from it: they are checked once merged (api/prepare.ts).
  const fromCheckpoint = given.has('resume') || given.has('init-from');
  // own properties only: '__proto__' and 'toString' are no presets
  const preset = Object.hasOwn(PRESETS, v.preset as string) ? PRESETS[v.preset as string] : undefined;
  if (preset === undefined) throw new UserError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${String(v.preset)}'`);
  // A preset fills in only what was not typed.
  const presetValues = Object.fromEntries(Object.entries(preset).filter(([field]) => !given.has(flagName(field).slice(2))));
  // Every option with a value is the config field of its camel-cased name; the rest say where to start and what to write.
  const fromFlags = Object.fromEntries(CONFIG_OPTIONS.map((spec) => [fieldName(spec.name), v[spec.name]])) as Partial<TrainConfig>;
  const corpusPaths = v.corpus as readonly string[] | undefined;
  if (corpusPaths !== undefined) Object.assign(fromFlags, { corpus: corpusPaths.length === 1 ? corpusPaths[0] : corpusPaths });
  const chosen: Partial<TrainConfig> = {
    ...Object.fromEntries(Object.entries(fromFlags).filter(([field]) => given.has(flagName(field).slice(2)))),
    // a time budget alone bounds the run by time: as many epochs as fit
    ...(given.has('minutes') && !given.has('epochs') && !given.has('steps') ? { epochs: Infinity } : {}),
    ...presetValues,
  };
  const config = makeTrainConfig({ ...fromFlags, ...chosen }, { checkModel: !fromCheckpoint });
  const typed = new Set([...given].map((name) => fieldName(name) as keyof TrainConfig));
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
    extendVocab: v['extend-vocab'] === true,
  };
}

/** Defaults for everything not given, for library callers and tests. Threads beyond streams would idle. */
export function makeTrainConfig(partial: Partial<TrainConfig>, { checkModel = true } = {}): TrainConfig {
  const defaults = Object.fromEntries(
    CONFIG_OPTIONS.flatMap((spec) => (spec.kind !== 'flag' && spec.default !== undefined ? [[fieldName(spec.name), spec.default]] : [])),
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

/** The precision a cell trains in unless told: the first of its dtypes (an unknown cell is refused later). */
export function defaultDtype(cell: string): Dtype {
  return findCell(cell)?.dtypes[0] ?? 'float64';
}

/** The model options together: a known cell, and layers, dropout and a precision only where the cell has them. */
export function checkModelOptions({ cell, layers, dropout, dtype }: Pick<TrainConfig, 'cell' | 'layers' | 'dropout' | 'dtype'>): void {
  const descriptor = findCell(cell);
  if (descriptor === undefined) throw new UserError(`--cell must be one of ${CELL_NAMES.join(', ')}, got '${cell}'`);
  if (!isDtype(dtype)) throw new UserError(`--dtype must be one of ${DTYPES.join(', ')}, got '${String(dtype)}'`);
  if (!descriptor.dtypes.includes(dtype)) throw new UserError(`--cell ${cell} computes in ${descriptor.dtypes.join(' or ')} only: use --cell ${cellList((other) => other.dtypes.includes(dtype), 'or')} for --dtype ${dtype}`);
  if (descriptor.stacks) return;
  if (layers !== 1) throw new UserError(`--cell ${cell} is the seed's one-layer model: use --cell ${cellList((other) => other.stacks, 'or')} for --layers ${layers}`);
  if (dropout !== 0) throw new UserError(`--cell ${cell} has no dropout: use --cell ${cellList((other) => other.stacks, 'or')} for --dropout ${dropout}`);
}

/** What a checkpoint keeps of the run's options (SAVED_OPTIONS, with the intervals as the run fixed them), and the schedule's horizon. */
export function checkpointOptions(c: TrainConfig & Intervals, lrHorizon: number): CheckpointOptions {
  return { ...Object.fromEntries(SAVED_OPTIONS.map(({ field }) => [field, c[field]])), lrHorizon } as CheckpointOptions;
}
