import { UserError } from '../errors.js';
import { checksumProblem, portableSha256, sameBytes, tensorsSha256, type Sha256 } from './checksum.js';
import type { CheckpointData, CheckpointOptions, LossPoint } from './data.js';
import { float64FromLittleEndian } from './endian.js';
import type { ShapeEntry } from '../model/cells/cell.js';
import { findCell } from '../model/cells/registry.js';
import { isOptimizerName, stateBuffers } from '../model/optimizers.js';
import { isDtype } from '../model/precision.js';
import { SAVED_OPTIONS } from '../train-options.js';
import { isLrSchedule } from '../train/schedule.js';
import { CHECKPOINT_FORMAT_VERSION, CHECKPOINT_MAGIC, checkpointMessageType, type WireCheckpoint, type WireLossPoint, type WireOptions, type WireTensorShape } from './schema.js';
import { shapeProblem } from './shape.js';
import { valueProblem } from './values.js';

/** The first format whose files must end with their SHA-256. */
const FIRST_SIGNED_FORMAT = 2;

const EMPTY = new Uint8Array(0);

/**
 * Parses and checks a checkpoint file's bytes; path only names the file in errors. Anything
 * wrong with the file is a UserError whose one-line message says what to do; the tensors come
 * back as fresh arrays, never views into bytes. Every value is checked as well as every size,
 * so that what comes back is safe to sample from and to resume, whoever wrote the file.
 */
export function decodeCheckpoint(bytes: Uint8Array, path: string, hash: Sha256 = portableSha256): CheckpointData {
  if (bytes.length === 0) throw notCheckpoint(path, 'it is empty');
  const wire = parse(bytes, path);
  if (wire.magic !== CHECKPOINT_MAGIC) throw notCheckpoint(path, 'it lacks the char-rnn checkpoint marker');
  // Checked before the version is read: a flipped bit there is damage, not a newer format.
  const fileSha256 = wire.sha256 ?? EMPTY;
  if (fileSha256.length > 0) {
    const problem = checksumProblem(bytes, fileSha256, hash);
    if (problem !== undefined) throw damaged(path, problem);
  }
  const version = wire.formatVersion ?? 0;
  if (version > CHECKPOINT_FORMAT_VERSION) {
    throw new UserError(
      `${path} was written by a newer char-rnn (format ${version}; this one reads up to ${CHECKPOINT_FORMAT_VERSION}): upgrade parallel-char-rnn`,
    );
  }
  if (version === 0) throw damaged(path, 'it has no format version');
  if (version >= FIRST_SIGNED_FORMAT && fileSha256.length === 0) throw damaged(path, `it lacks the checksum that format ${version} files end with`);

  const { model, options, corpus, progress, tensors } = wire;
  if (model == null) throw damaged(path, 'it has no model section');
  if (options == null) throw damaged(path, 'it has no options section');
  if (corpus == null) throw damaged(path, 'it has no corpus section');
  if (progress == null) throw damaged(path, 'it has no progress section');
  if (tensors == null) throw damaged(path, 'it has no tensors section');

  const params = tensors.params ?? EMPTY;
  const optimizerState = tensors.optimizerState ?? EMPTY;
  const hidden = tensors.hidden ?? EMPTY;
  if (!sameBytes(tensorsSha256([params, optimizerState, hidden], hash), tensors.sha256 ?? EMPTY)) {
    throw damaged(path, 'its tensors do not match their checksum');
  }

  const cell = model.cell ?? '';
  if (cell === '') throw damaged(path, 'it names no model cell');
  const descriptor = findCell(cell);
  if (descriptor === undefined) throw new UserError(`${path} holds a '${cell}' model, which this char-rnn cannot run: upgrade parallel-char-rnn`);
  // uint64 fields arrive as numbers; past 2^53 they have lost digits, which no writer produces.
  const count = (name: string, value: number | undefined): number => {
    const n = value ?? 0;
    if (!Number.isSafeInteger(n)) throw damaged(path, `its ${name} is ${n}, beyond what it could count to`);
    return n;
  };
  const saved = savedOptions(options, count);
  const { optimizer, dtype, lrSchedule } = saved as Record<'optimizer' | 'dtype' | 'lrSchedule', string>;
  if (!isOptimizerName(optimizer)) throw new UserError(`${path} was trained with the '${optimizer}' optimizer, which this char-rnn does not know: upgrade parallel-char-rnn`);
  if (!isDtype(dtype)) throw new UserError(`${path} was trained in '${dtype}', a precision this char-rnn does not know: upgrade parallel-char-rnn`);
  if (!isLrSchedule(lrSchedule)) throw new UserError(`${path} follows the '${lrSchedule}' learning-rate schedule, which this char-rnn does not know: upgrade parallel-char-rnn`);
  for (const [name, tensor] of [['params', params], ['optimizer state', optimizerState], ['hidden states', hidden]] as const) {
    if (tensor.length % 8 !== 0) throw damaged(path, `its ${name} are ${tensor.length} bytes, not whole float64s`);
  }
  // files from before the gated cells have no layer count: they are one-layer rnn models
  const L = model.layers || (cell === 'rnn' ? 1 : 0);
  const H = model.hidden ?? 0;
  const K = model.vocabSize ?? 0;
  const vocab = Uint32Array.from(model.vocab ?? []);
  const prngState = Uint32Array.from(progress.prngState ?? []);
  const corpusSha256 = new Uint8Array(corpus.sha256 ?? EMPTY);
  const problem = shapeProblem({
    cell, L, H, K, B: options.streams ?? 0, vocab: vocab.length,
    params: params.length / 8, optimizerState: optimizerState.length / 8, optimizerBuffers: stateBuffers(optimizer), hidden: hidden.length / 8,
    prngState: prngState.length, corpusSha256: corpusSha256.length,
  });
  if (problem !== undefined) throw damaged(path, problem);
  const tables = tableProblem('parameter', model.params, descriptor.paramTable({ cell, L, H, K })) ??
    tableProblem('state', model.state, descriptor.stateTable({ cell, L, H, K }));
  if (tables !== undefined) throw damaged(path, tables);
  if (prngState.every((word) => word === 0)) throw damaged(path, 'its PRNG state is all zeros');
  const bestMetric = progress.bestMetric;
  if (bestMetric !== 'val' && bestMetric !== 'smooth') throw damaged(path, `its best metric is '${bestMetric}', not 'val' or 'smooth'`);

  const points = (name: string, history: WireLossPoint[] | undefined): LossPoint[] =>
    (history ?? []).map((point) => ({ step: count(`${name} history step`, point.step), loss: point.loss ?? 0 }));

  const data: CheckpointData = {
    packageVersion: wire.packageVersion ?? '',
    createdAt: wire.createdAt ?? '',
    model: { cell, L, H, K, vocab },
    options: { ...saved, lrHorizon: count('lr horizon', options.lrHorizon) } as CheckpointOptions,
    corpus: { source: corpus.source ?? '', ...(corpus.sources?.length ? { sources: [...corpus.sources] } : {}), length: count('corpus length', corpus.length), sha256: corpusSha256 },
    state: {
      step: count('step', progress.step),
      epoch: progress.epoch ?? 0,
      position: count('position', progress.position),
      streamLength: count('stream length', progress.streamLength),
      charsSeen: count('character count', progress.charsSeen),
      seconds: progress.seconds ?? 0,
      params: float64FromLittleEndian(params),
      optimizerState: float64FromLittleEndian(optimizerState),
      hidden: float64FromLittleEndian(hidden),
      prngState,
      smoothLoss: progress.smoothLoss ?? 0,
      bestLoss: progress.bestLoss ?? 0,
      bestStep: count('best step', progress.bestStep),
      bestMetric,
      valLoss: progress.valLoss,
      smoothHistory: points('smooth loss', wire.history?.smooth),
      valHistory: points('validation loss', wire.history?.val),
    },
  };
  const values = valueProblem(data);
  if (values !== undefined) throw damaged(path, values);
  return data;
}

/**
 * The options a file saved, as its run had them: a field the file lacks reads as the option's
 * value in files from before it (`oldFiles` in src/train-options.ts), and a count is checked to be
 * exact. The names (optimizer, dtype, schedule) are any string until the caller checks them.
 */
function savedOptions(wire: WireOptions, count: (name: string, value: number | undefined) => number): Omit<CheckpointOptions, 'lrHorizon'> {
  const fields = checkpointMessageType().root.lookupType('charrnn.TrainOptions').fields;
  const values = SAVED_OPTIONS.map((option) => {
    const proto = fields[option.field];
    const value = wire[option.field];
    // proto3 decodes an absent field that is not `optional` as its zero
    const lacking = value === undefined || (proto.options?.proto3_optional !== true && (value === 0 || value === ''));
    if (lacking && 'oldFiles' in option) return [option.field, option.oldFiles];
    return [option.field, proto.type === 'uint64' && value !== undefined ? count(`${option.name} option`, value as number) : value];
  });
  return Object.fromEntries(values) as Omit<CheckpointOptions, 'lrHorizon'>;
}

/** Where a file's own tensor table (absent before the gated cells) differs from the one its cell and sizes give. */
function tableProblem(what: string, stored: WireTensorShape[] | undefined, expected: readonly ShapeEntry[]): string | undefined {
  if (stored === undefined || stored.length === 0) return undefined;
  const describe = (name: string, dims: readonly number[]): string => `${name} [${dims.join(', ')}]`;
  const found = stored.map((t) => describe(t.name ?? '', t.dims ?? []));
  const wanted = expected.map(([name, dims]) => describe(name, dims));
  const at = wanted.findIndex((entry, i) => found[i] !== entry);
  if (at === -1 && found.length === wanted.length) return undefined;
  const index = at === -1 ? wanted.length : at;
  return `its ${what} table lists ${found[index] ?? 'nothing'} where its model has ${wanted[index] ?? 'nothing'}`;
}

function parse(bytes: Uint8Array, path: string): WireCheckpoint {
  const type = checkpointMessageType();
  let message: ReturnType<typeof type.decode>;
  try {
    message = type.decode(bytes);
  } catch (error) {
    // decode is a pure parse of the bytes given, so whatever it throws means they are not
    // a well-formed message (protobufjs throws plain Errors and RangeErrors for that).
    throw notCheckpoint(path, 'it does not parse as one', error);
  }
  // Absent optional fields stay undefined; absent submessages become null.
  return type.toObject(message, { longs: Number, defaults: true, arrays: true }) as WireCheckpoint;
}

function notCheckpoint(path: string, why: string, cause?: unknown): UserError {
  return new UserError(`${path} is not a char-rnn checkpoint (${why}); pass a file written by 'char-rnn train'`, { cause });
}

function damaged(path: string, what: string): UserError {
  return new UserError(`${path} is damaged: ${what} (the file was altered or partly written); use another checkpoint`);
}
