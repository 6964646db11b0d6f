import { appendChecksum, portableSha256, tensorsSha256, type Sha256 } from './checksum.js';
import type { CheckpointData, LossPoint } from './data.js';
import { littleEndianBytes } from './endian.js';
import type { ShapeEntry } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';
import { stateBuffers } from '../model/optimizers.js';
import { CHECKPOINT_FORMAT_VERSION, CHECKPOINT_MAGIC, checkpointMessageType, type WireCheckpoint, type WireLossPoint, type WireTensorShape } from './schema.js';
import { shapeProblem } from './shape.js';
import { valueProblem } from './values.js';

const UINT32_MAX = 0xffffffff;

/**
 * The checkpoint as protobuf bytes (proto/checkpoint.proto), ending with the SHA-256 of all the
 * rest. Inconsistent data is a bug in the caller, so it throws a RangeError rather than writing
 * a file no one could load: the encoder holds the data to the rules the decoder does.
 */
export function encodeCheckpoint(data: CheckpointData, hash: Sha256 = portableSha256): Uint8Array {
  checkEncodable(data);
  const { model, options, corpus, state } = data;
  const cell = cellNamed(model.cell);
  const params = littleEndianBytes(state.params);
  const optimizerState = littleEndianBytes(state.optimizerState);
  const hidden = littleEndianBytes(state.hidden);
  const wire: WireCheckpoint = {
    magic: CHECKPOINT_MAGIC,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    packageVersion: data.packageVersion,
    createdAt: data.createdAt,
    model: {
      cell: model.cell, hidden: model.H, vocabSize: model.K, vocab: Array.from(model.vocab), layers: model.L,
      params: wireShapes(cell.paramTable(model)), state: wireShapes(cell.stateTable(model)),
    },
    // An undefined steps is left out of the file, as proto3 optional allows; no epoch bound is 0, no budget 0.
    options: { ...options, epochs: options.epochs === Infinity ? 0 : options.epochs, minutes: options.minutes ?? 0 },
    corpus: { source: corpus.source, sources: [...(corpus.sources ?? [])], length: corpus.length, sha256: corpus.sha256 },
    progress: {
      step: state.step,
      epoch: state.epoch,
      position: state.position,
      streamLength: state.streamLength,
      charsSeen: state.charsSeen,
      prngState: Array.from(state.prngState),
      smoothLoss: state.smoothLoss,
      bestLoss: state.bestLoss,
      bestStep: state.bestStep,
      bestMetric: state.bestMetric,
      valLoss: state.valLoss,
      seconds: state.seconds,
    },
    tensors: { params, optimizerState, hidden, sha256: tensorsSha256([params, optimizerState, hidden], hash) },
    history: { smooth: state.smoothHistory.map(wirePoint), val: state.valHistory.map(wirePoint) },
  };
  // Everything but sha256 (field 11), which follows the rest and covers it.
  return appendChecksum(checkpointMessageType().encode(wire).finish(), hash);
}

function wireShapes(table: readonly ShapeEntry[]): WireTensorShape[] {
  return table.map(([name, dims]) => ({ name, dims: [...dims] }));
}

function wirePoint(point: LossPoint): WireLossPoint {
  return { step: point.step, loss: point.loss };
}

function checkEncodable(data: CheckpointData): void {
  const { model, options, corpus, state } = data;
  const problem = shapeProblem({
    cell: model.cell, L: model.L, H: model.H, K: model.K, B: options.streams, vocab: model.vocab.length,
    params: state.params.length, optimizerState: state.optimizerState.length, optimizerBuffers: stateBuffers(options.optimizer), hidden: state.hidden.length,
    prngState: state.prngState.length, corpusSha256: corpus.sha256.length,
  });
  if (problem !== undefined) throw new RangeError(`cannot encode the checkpoint: ${problem}`);
  if (state.bestMetric !== 'val' && state.bestMetric !== 'smooth') {
    throw new RangeError(`checkpoint state.bestMetric is '${String(state.bestMetric)}', not 'val' or 'smooth'`);
  }
  const { uint32, uint64 } = { uint32: UINT32_MAX, uint64: Number.MAX_SAFE_INTEGER };
  const integers: [string, number, number][] = [
    ['model.L', model.L, uint32], ['model.H', model.H, uint32], ['model.K', model.K, uint32],
    ['options.seqLength', options.seqLength, uint32], ['options.streams', options.streams, uint32],
    ['options.seed', options.seed, uint32], ['options.epochs', options.epochs === Infinity ? 0 : options.epochs, uint32],
    ['options.steps', options.steps ?? 0, uint64], ['options.evalEvery', options.evalEvery, uint64],
    ['options.sampleEvery', options.sampleEvery, uint64], ['options.sampleLength', options.sampleLength, uint32],
    ['options.checkpointEvery', options.checkpointEvery, uint64], ['options.threads', options.threads, uint32],
    ['options.lrDecayEvery', options.lrDecayEvery, uint64], ['options.lrHorizon', options.lrHorizon, uint64], ['options.warmupSteps', options.warmupSteps, uint64],
    ['options.patience', options.patience, uint64],
    ['corpus.length', corpus.length, uint64], ['state.step', state.step, uint64], ['state.epoch', state.epoch, uint32],
    ['state.position', state.position, uint64], ['state.streamLength', state.streamLength, uint64],
    ['state.charsSeen', state.charsSeen, uint64], ['state.bestStep', state.bestStep, uint64],
  ];
  for (const [name, history] of [['smoothHistory', state.smoothHistory], ['valHistory', state.valHistory]] as const) {
    history.forEach((point, i) => integers.push([`state.${name}[${i}].step`, point.step, uint64]));
  }
  for (const [name, value, max] of integers) {
    if (!(Number.isInteger(value) && value >= 0 && value <= max)) {
      throw new RangeError(`checkpoint ${name} is ${value}, not an integer in 0..${max}`);
    }
  }
  const values = valueProblem(data);
  if (values !== undefined) throw new RangeError(`cannot encode the checkpoint: ${values}`);
}
