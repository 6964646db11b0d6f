import { createHash } from 'node:crypto';
import type { CheckpointData, CheckpointOptions } from './data.js';
import { formatDuration, formatPerChar } from '../progress/format.js';
import { littleEndianBytes } from './endian.js';
import { findCell } from '../model/cells/registry.js';

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

function optionFlags(options: CheckpointOptions, cell: string): string {
  const flags: [string, number | undefined][] = [
    ['seq-length', options.seqLength], ['streams', options.streams], ['threads', options.threads],
    ...lengthFlags(options),
    ['dropout', options.dropout], ['eta', options.eta], ['eps', options.eps], ['clip', options.clip],
    ...(options.optimizer === 'rmsprop' ? [['decay', options.decay] as [string, number]] : []),
    ...(options.optimizer === 'adam' ? [['beta1', options.beta1], ['beta2', options.beta2]] as [string, number][] : []), ['seed', options.seed], ['val-frac', options.valFrac],
    ['eval-every', options.evalEvery], ['sample-every', options.sampleEvery], ['sample-length', options.sampleLength],
    ['checkpoint-every', options.checkpointEvery],
  ];
  if (options.clipNorm > 0) flags.push(['clip-norm', options.clipNorm]);
  if (options.patience > 0) flags.push(['patience', options.patience]);
  if (options.lrSchedule === 'step') flags.push(['lr-decay', options.lrDecay], ['lr-decay-every', options.lrDecayEvery]);
  if (options.lrSchedule === 'cosine') flags.push(['lr-min', options.lrMin]);
  if (options.warmupSteps > 0) flags.push(['warmup-steps', options.warmupSteps]);
  if (options.sampleTemperature !== 1) flags.push(['sample-temperature', options.sampleTemperature]);
  const schedule = options.lrSchedule === 'constant' ? [] : [`--lr-schedule ${options.lrSchedule}`];
  // the precision is a choice only where the cell has two (and its default may change)
  const dtype = (findCell(cell)?.dtypes.length ?? 1) > 1 ? [`--dtype ${options.dtype}`] : [];
  return [...dtype, `--optimizer ${options.optimizer}`, ...schedule, ...flags.map(([name, value]) => `--${name} ${value}`)].join(' ');
}

/** '20 epochs', '5,000 steps', '4m30s of training', or two of them with 'or' (whichever ends the run first). */
export function plannedLength(options: Pick<CheckpointOptions, 'epochs' | 'steps' | 'minutes'>): string {
  const parts = [
    options.steps !== undefined ? `${group(options.steps)} steps` : options.epochs !== Infinity ? `${group(options.epochs)} epoch${options.epochs === 1 ? '' : 's'}` : undefined,
    options.minutes === undefined ? undefined : `${formatDuration(options.minutes * 60)} of training`,
  ].filter((part) => part !== undefined);
  return parts.length === 2 ? `${parts[0]} or ${parts[1]}, whichever ends first` : parts[0] as string;
}

/** The flags that give the run's length, for the options line. */
function lengthFlags(options: CheckpointOptions): [string, number][] {
  const flags: [string, number][] = [];
  if (options.steps !== undefined) flags.push(['steps', options.steps]);
  else if (options.epochs !== Infinity) flags.push(['epochs', options.epochs]);
  // a resumed budget is what was spent plus what was given: a few digits say it
  if (options.minutes !== undefined) flags.push(['minutes', Number(options.minutes.toPrecision(4))]);
  return flags;
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
