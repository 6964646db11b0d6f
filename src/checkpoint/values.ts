import { SAVED_OPTIONS } from '../train-options.js';
import { findCell } from '../model/cells/registry.js';
import { squareBuffers } from '../model/optimizers.js';
import { boundsProblem } from '../option-spec.js';
import { placeAfter } from '../train/plan.js';
import type { CheckpointData, CheckpointModel, CheckpointOptions, CheckpointState, CorpusFingerprint, LossPoint } from './data.js';

const MAX_CODE_POINT = 0x10ffff;

/**
 * What about the checkpoint's values no run could have written, as a phrase for an error
 * message; undefined when nothing is. The sizes are shapeProblem's; these are the rules that
 * train() keeps, so that a file read back is safe to sample from and to resume.
 */
export function valueProblem({ model, options, corpus, state }: CheckpointData): string | undefined {
  return vocabularyProblem(model.vocab) ?? optionsProblem(options) ?? modelProblem(model, options) ?? progressProblem(options, corpus, state) ?? lossesProblem(state) ??
    tensorsProblem(options, state);
}

/** Numbers training leaves finite, and the optimizer's squares never negative: a NaN would only sample noise or stop a resumed run. */
function tensorsProblem(o: CheckpointOptions, s: CheckpointState): string | undefined {
  for (const [name, tensor] of [['parameters', s.params], ['optimizer state', s.optimizerState], ['saved states', s.hidden]] as const) {
    const at = firstNonFinite(tensor);
    if (at >= 0) return `its ${name} hold ${tensor[at]} (entry ${at})`;
  }
  const P = s.params.length;
  for (const buffer of squareBuffers(o.optimizer)) {
    const at = firstNegative(s.optimizerState, buffer * P, (buffer + 1) * P);
    if (at >= 0) return `its ${o.optimizer} state holds ${s.optimizerState[at]} (entry ${at}) where it keeps squares, never negative`;
  }
  return undefined;
}

function firstNonFinite(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value - value !== 0) return i; // NaN and the infinities alone give NaN
  }
  return -1;
}

function firstNegative(values: Float64Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (values[i] < 0) return i;
  return -1;
}

/**
 * Code points as a corpus decoded from UTF-8 yields them: Unicode scalar values, each once
 * (ascending from a corpus; --extend-vocab appends the symbols it adds after them).
 */
function vocabularyProblem(vocab: Uint32Array): string | undefined {
  const seenAt = new Map<number, number>();
  for (let k = 0; k < vocab.length; k++) {
    const cp = vocab[k];
    if (cp > MAX_CODE_POINT) return `its vocabulary holds ${codePoint(cp)} (symbol ${k}), beyond the last Unicode code point U+10FFFF`;
    if (cp >= 0xd800 && cp <= 0xdfff) return `its vocabulary holds ${codePoint(cp)} (symbol ${k}), a surrogate, which no UTF-8 text holds`;
    const earlier = seenAt.get(cp);
    if (earlier !== undefined) return `its vocabulary lists ${codePoint(cp)} twice (symbols ${earlier} and ${k})`;
    seenAt.set(cp, k);
  }
  return undefined;
}

/**
 * Every option within the bounds its flag has in 'char-rnn train' (TRAIN_OPTIONS), and the options
 * together as makeTrainConfig leaves them; the names (cell, optimizer, schedule, dtype) are decode's.
 */
function optionsProblem(o: CheckpointOptions): string | undefined {
  if (o.epochs === Infinity && o.minutes === undefined && o.steps === undefined) return 'its epochs option is 0 (none), and neither steps nor a time budget bound the run';
  for (const spec of SAVED_OPTIONS) {
    const value = o[spec.field];
    if ((spec.kind !== 'int' && spec.kind !== 'number') || value === undefined || (spec.field === 'epochs' && value === Infinity)) continue;
    const problem = boundsProblem(spec, value as number);
    if (problem !== undefined) return `its ${spec.name} option is ${String(value)}, ${problem}`;
  }
  if (o.lrSchedule === 'cosine') {
    if (!(o.lrMin <= o.eta)) return `its cosine schedule falls to lr-min ${o.lrMin}, above its eta ${o.eta}`;
    if (!(o.lrHorizon >= 1)) return `its cosine schedule has a horizon of ${o.lrHorizon} steps`;
  }
  if (o.patience > 0 && (o.valFrac === 0 || o.evalEvery === 0)) return `its patience option is ${o.patience} with ${o.valFrac === 0 ? 'no validation text' : 'no evaluations (eval-every 0)'} to count`;
  return undefined;
}

/** Dropout and float32 only where the cell has them. */
function modelProblem(model: CheckpointModel, o: CheckpointOptions): string | undefined {
  if (o.dropout > 0 && findCell(model.cell)?.stacks === false) return `its ${model.cell} model has dropout ${o.dropout}, which that cell does not take`;
  if (findCell(model.cell)?.dtypes.includes(o.dtype) === false) return `its ${model.cell} model was trained in ${o.dtype}, which that cell does not compute in`;
  return undefined;
}

/** Where training stands, as train() moves it: B streams of L characters, T at a time. */
function progressProblem(o: CheckpointOptions, corpus: CorpusFingerprint, s: CheckpointState): string | undefined {
  const { seqLength: T, streams: B } = o;
  const L = s.streamLength;
  if (!(s.epoch >= 1)) return `its epoch is ${s.epoch}, not 1 or more`;
  if (!(L >= T + 1)) return `its stream length ${L} is less than seq-length + 1 (${T + 1})`;
  if (!(L * B <= corpus.length)) return `its stream length ${L} times ${B} streams is more than its corpus length ${corpus.length}`;
  if (!(s.position <= L)) return `its position ${s.position} is beyond its stream length ${L}`;
  if (s.charsSeen !== s.step * B * T) return `its characters seen (${s.charsSeen}) are not ${s.step} steps of ${B} streams of ${T} characters`;
  const place = placeAfter(s.step, T, L);
  if (s.position !== place.position || s.epoch !== place.epoch) {
    return `it stands at position ${s.position} of epoch ${s.epoch} after ${s.step} steps, where streams of ${L} characters read ${T} at a time stand at position ${place.position} of epoch ${place.epoch}`;
  }
  const planned = o.steps ?? o.epochs * Math.floor((L - 1) / T);
  if (s.step > planned) return `its step ${s.step} is beyond the ${planned} steps its options plan`;
  if (!(Number.isFinite(s.seconds) && s.seconds >= 0)) return `its training time is ${s.seconds} seconds, not a finite number >= 0`;
  if (!(s.bestStep <= s.step)) return `its best step ${s.bestStep} is beyond its step ${s.step}`;
  return historyProblem('smooth loss history', s.smoothHistory, s.step) ?? historyProblem('validation loss history', s.valHistory, s.step);
}

/** Losses are cross-entropies, so never negative; NaN marks a smooth loss not measured yet, Infinity a best not found yet. */
function lossesProblem(s: CheckpointState): string | undefined {
  if (Number.isNaN(s.smoothLoss)) {
    if (s.step !== 0) return `its smooth loss is NaN at step ${s.step} (only a run that has taken no step has none)`;
  } else if (!isLoss(s.smoothLoss)) {
    return `its smooth loss is ${s.smoothLoss}, not a finite number >= 0`;
  }
  if (!(s.bestLoss === Infinity || isLoss(s.bestLoss))) return `its best loss is ${s.bestLoss}, not Infinity or a finite number >= 0`;
  if (!(s.valLoss === undefined || isLoss(s.valLoss))) return `its validation loss is ${s.valLoss}, not a finite number >= 0`;
  return undefined;
}

/** Points in step order, none past the run's step, each a loss. */
function historyProblem(name: string, points: readonly LossPoint[], step: number): string | undefined {
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    if (i > 0 && !(point.step > points[i - 1].step)) return `its ${name} is not in step order: step ${point.step} follows step ${points[i - 1].step}`;
    if (!(point.step <= step)) return `its ${name} has step ${point.step}, beyond its step ${step}`;
    if (!isLoss(point.loss)) return `its ${name} has loss ${point.loss} at step ${point.step}, not a finite number >= 0`;
  }
  return undefined;
}

function isLoss(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/** 'U+00E9'; never the character itself, which may not exist. */
function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
