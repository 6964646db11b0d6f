import { TRAIN_OPTIONS } from '../config.js';
import { findCell } from '../model/cells/registry.js';
import type { CheckpointData, CheckpointModel, CheckpointOptions, CheckpointState, CorpusFingerprint, LossPoint } from './data.js';

const MAX_CODE_POINT = 0x10ffff;
const MAX_SEQ_LENGTH = cliMaximum('seq-length');
const MAX_SAMPLE_LENGTH = cliMaximum('sample-length');
const MAX_DROPOUT = cliMaximum('dropout');

/**
 * What about the checkpoint's values no run could have written, as a phrase for an error
 * message; undefined when nothing is. The sizes are shapeProblem's; these are the rules that
 * train() keeps, so that a file read back is safe to sample from and to resume.
 */
export function valueProblem({ model, options, corpus, state }: CheckpointData): string | undefined {
  return vocabularyProblem(model.vocab) ?? optionsProblem(options) ?? modelProblem(model, options) ?? progressProblem(options, corpus, state) ?? lossesProblem(state);
}

/** Code points as a corpus decoded from UTF-8 yields them: Unicode scalar values, ascending, each once. */
function vocabularyProblem(vocab: Uint32Array): string | undefined {
  for (let k = 0; k < vocab.length; k++) {
    const cp = vocab[k];
    if (cp > MAX_CODE_POINT) return `its vocabulary holds ${codePoint(cp)} (symbol ${k}), beyond the last Unicode code point U+10FFFF`;
    if (cp >= 0xd800 && cp <= 0xdfff) return `its vocabulary holds ${codePoint(cp)} (symbol ${k}), a surrogate, which no UTF-8 text holds`;
    if (k > 0 && cp === vocab[k - 1]) return `its vocabulary lists ${codePoint(cp)} twice (symbols ${k - 1} and ${k})`;
    if (k > 0 && cp < vocab[k - 1]) return `its vocabulary is not in ascending order: ${codePoint(cp)} (symbol ${k}) follows ${codePoint(vocab[k - 1])}`;
  }
  return undefined;
}

/** The ranges 'char-rnn train' accepts; seed and the every-N counts are any value of their type. */
function optionsProblem(o: CheckpointOptions): string | undefined {
  for (const [name, value] of [['eta', o.eta], ['eps', o.eps], ['clip', o.clip], ['sample-temperature', o.sampleTemperature]] as const) {
    if (!(Number.isFinite(value) && value > 0)) return `its ${name} option is ${value}, not a finite number above 0`;
  }
  const counts: [string, number, number][] = [
    ['seq-length', o.seqLength, MAX_SEQ_LENGTH], ['streams', o.streams, Infinity], ['epochs', o.epochs, Infinity],
    ['steps', o.steps ?? 1, Infinity], ['sample-length', o.sampleLength, MAX_SAMPLE_LENGTH], ['threads', o.threads, Infinity],
  ];
  for (const [name, value, max] of counts) {
    if (!(value >= 1 && value <= max)) return `its ${name} option is ${value}, not ${max === Infinity ? '1 or more' : `in 1..${max}`}`;
  }
  if (!(o.valFrac >= 0 && o.valFrac < 1)) return `its val-frac option is ${o.valFrac}, not in [0, 1)`;
  if (!(o.dropout >= 0 && o.dropout <= MAX_DROPOUT)) return `its dropout option is ${o.dropout}, not in [0, ${MAX_DROPOUT}]`;
  if (!(Number.isFinite(o.clipNorm) && o.clipNorm >= 0)) return `its clip-norm option is ${o.clipNorm}, not a finite number >= 0`;
  if (!(o.lrDecay > 0 && o.lrDecay <= 1)) return `its lr-decay option is ${o.lrDecay}, not in (0, 1]`;
  if (!(Number.isFinite(o.lrMin) && o.lrMin >= 0)) return `its lr-min option is ${o.lrMin}, not a finite number >= 0`;
  for (const [name, value] of [['decay', o.decay], ['beta1', o.beta1], ['beta2', o.beta2]] as const) {
    const max = cliMaximum(name);
    if (!(value >= 0 && value <= max)) return `its ${name} option is ${value}, not in [0, ${max}]`;
  }
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

/** The CLI's upper bound on an integer option, so that a checkpoint holds no more than 'char-rnn train' accepts. */
function cliMaximum(name: string): number {
  const spec = TRAIN_OPTIONS.find((option) => option.name === name);
  if ((spec?.kind !== 'int' && spec?.kind !== 'number') || spec.max === undefined) throw new Error(`TRAIN_OPTIONS has no maximum for --${name}`);
  return spec.max;
}
