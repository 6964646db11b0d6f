import { createHash } from 'node:crypto';
import type { CheckpointData, CheckpointOptions } from './data.js';
import { formatDuration, formatPerChar } from '../progress/format.js';
import { littleEndianBytes } from './endian.js';
import { findCell } from '../model/cells/registry.js';
import { OPTIMIZER_OWN_OPTIONS } from '../model/optimizers.js';
import { SAVED_OPTIONS } from '../train-options.js';
import { SCHEDULE_OWN_OPTIONS } from '../train/schedule.js';

/** A few lines for 'char-rnn inspect': what the model is, where training stands, what it came from. */
export function describeCheckpoint(data: CheckpointData, path: string, fileBytes: number): string {
  const { model, options, corpus, state } = data;
  const T = options.seqLength;
  const smooth = Number.isFinite(state.smoothLoss)
    ? `smooth ${state.smoothLoss.toFixed(4)} nats per ${T}-character sequence (${(state.smoothLoss / T).toFixed(4)} per character)`
    : 'smooth not measured yet';
  const best = !Number.isFinite(state.bestLoss)
    ? 'none yet'
    : state.bestMetric === 'val'
      ? `validation ${formatPerChar(state.bestLoss)} at step ${group(state.bestStep)}`
      : `smooth ${state.bestLoss.toFixed(4)} at step ${group(state.bestStep)}`;
  const val = state.valLoss === undefined ? 'not measured yet' : formatPerChar(state.valLoss);
  return [
    `checkpoint ${path}: ${formatBytes(fileBytes)}, written ${data.createdAt} by parallel-char-rnn ${data.packageVersion}`,
    `model:      ${model.cell}, ${model.L === 1 ? '' : `${model.L} layers of `}H=${model.H} hidden units, K=${model.K} symbols, ${group(state.params.length)} parameters`,
    `progress:   step ${group(state.step)}, epoch ${state.epoch}, ${group(state.charsSeen)} characters seen, position ${group(state.position)} of ${group(state.streamLength)} in each of ${options.streams} streams${state.seconds > 0 ? `, ${formatDuration(state.seconds)} of training` : ''}`,
    `length:     ${plannedLength(options)}`,
    `losses:     ${smooth}; validation ${val}; best ${best}`,
    `options:    ${optionFlags(options, model.cell)}`,
    `corpus:     ${corpus.source}, ${group(corpus.length)} symbols, sha256 ${hex(corpus.sha256).slice(0, 16)}`,
  ].join('\n');
}

/** The same facts as plain JSON for 'char-rnn inspect --json'; tensors summarized, not dumped. NaN and Infinity become null. */
export function checkpointJson(data: CheckpointData, fileBytes: number): object {
  const { model, options, corpus, state } = data;
  const tensor = (values: Float64Array) => ({ length: values.length, sha256: hex(createHash('sha256').update(littleEndianBytes(values)).digest()) });
  return {
    fileBytes,
    packageVersion: data.packageVersion,
    createdAt: data.createdAt,
    model: { cell: model.cell, L: model.L, H: model.H, K: model.K, parameters: state.params.length, vocab: Array.from(model.vocab, (cp) => String.fromCodePoint(cp)).join('') },
    options: { ...options, steps: options.steps ?? null, epochs: options.epochs === Infinity ? null : options.epochs, minutes: options.minutes ?? null },
    corpus: { source: corpus.source, length: corpus.length, sha256: hex(corpus.sha256) },
    state: {
      step: state.step,
      epoch: state.epoch,
      position: state.position,
      streamLength: state.streamLength,
      charsSeen: state.charsSeen,
      seconds: state.seconds,
      smoothLoss: state.smoothLoss,
      bestLoss: state.bestLoss,
      bestStep: state.bestStep,
      bestMetric: state.bestMetric,
      valLoss: state.valLoss ?? null,
      prngState: Array.from(state.prngState),
      params: tensor(state.params),
      optimizerState: tensor(state.optimizerState),
      hidden: tensor(state.hidden),
    },
    history: { smooth: state.smoothHistory, val: state.valHistory },
  };
}

/** Every saved option the run reads, as its flag, in the table's order (src/train-options.ts). */
function optionFlags(options: CheckpointOptions, cell: string): string {
  const othersOwn = <N extends string, F extends string>(own: Readonly<Record<N, readonly F[]>>, name: N): F[] =>
    Object.values<readonly F[]>(own).flat().filter((field) => !own[name].includes(field));
  const unread = new Set<string>([
    ...othersOwn(OPTIMIZER_OWN_OPTIONS, options.optimizer),
    ...othersOwn(SCHEDULE_OWN_OPTIONS, options.lrSchedule),
    options.steps === undefined ? 'steps' : 'epochs', // steps bound the run instead of epochs
    // the precision is a choice only where the cell has two (and its default may change)
    ...((findCell(cell)?.dtypes.length ?? 1) > 1 ? [] : ['dtype']),
  ]);
  return SAVED_OPTIONS.filter(({ field }) => !unread.has(field) && options[field] !== undefined && options[field] !== Infinity)
    .map(({ name, field }) => `--${name} ${field === 'minutes' ? minutesShown(options.minutes as number) : String(options[field])}`)
    .join(' ');
}

/** A resumed budget is what was spent plus what was given: a few digits say it. */
function minutesShown(minutes: number): number {
  return Number(minutes.toPrecision(4));
}

/** '20 epochs', '5,000 steps', '4m30s of training', or two of them with 'or' (whichever ends the run first). */
export function plannedLength(options: Pick<CheckpointOptions, 'epochs' | 'steps' | 'minutes'>): string {
  const parts = [
    options.steps !== undefined ? `${group(options.steps)} steps` : options.epochs !== Infinity ? `${group(options.epochs)} epoch${options.epochs === 1 ? '' : 's'}` : undefined,
    options.minutes === undefined ? undefined : `${formatDuration(options.minutes * 60)} of training`,
  ].filter((part) => part !== undefined);
  return parts.length === 2 ? `${parts[0]} or ${parts[1]}, whichever ends first` : parts[0] as string;
}

function group(n: number): string {
  return n.toLocaleString('en-US');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]} (${group(n)} bytes)`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
