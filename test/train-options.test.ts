/**
 * The train options table against the .proto and the checkpoint codec: every saved option has its
 * field, goes through a file as the run had it, and a file from before it reads as its old value.
 */
import test from 'ava';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from '../src/checkpoint/index.js';
import { appendChecksum, portableSha256 } from '../src/checkpoint/checksum.js';
import { checkpointMessageType, type WireCheckpoint } from '../src/checkpoint/schema.js';
import { checkpointOptions, makeTrainConfig, SAVED_OPTIONS, TRAIN_OPTIONS } from '../src/config.js';
import { tinyCheckpoint } from './fixtures/tiny-model.js';

const CHECKSUM_BYTES = 34;
const root = checkpointMessageType().root;

const tiny = (): CheckpointData => tinyCheckpoint(['a', 'b'], { W: [[0.1]], U: [[0.2, -0.2]], V: [[0.3], [-0.3]], b: [0], c: [0.1, -0.1] });

test('every saved option is a field of TrainOptions in the .proto, and every field of it an option or the horizon', (t) => {
  const fields = Object.keys(root.lookupType('charrnn.TrainOptions').fields);
  t.deepEqual(fields.sort(), [...SAVED_OPTIONS.map((option) => option.field), 'lrHorizon'].sort());
  const model = root.lookupType('charrnn.Model').fields;
  for (const option of TRAIN_OPTIONS) {
    if (!('checkpoint' in option)) continue;
    const [message, field] = option.checkpoint.split('.');
    t.is(message, 'Model', option.name);
    t.truthy(model[field], `${option.name}: Model.${field}`);
  }
});

test('the saved options of a run go through a checkpoint file as the run had them', (t) => {
  const config = makeTrainConfig({
    cell: 'rnn', seqLength: 25, streams: 1, threads: 1, optimizer: 'rmsprop', eta: 0.01, decay: 0.9, lrSchedule: 'step', lrDecay: 0.5, lrDecayEvery: 7,
    warmupSteps: 3, clipNorm: 2, patience: 2, valFrac: 0.1, steps: 1, minutes: 2, sampleLength: 30, sampleTemperature: 0.5, checkpointEvery: 9,
  });
  const run = { ...config, evalEvery: 5, sampleEvery: 6 };
  const options = checkpointOptions(run, 0);
  for (const { field } of SAVED_OPTIONS) t.is(options[field], run[field], field);
  t.deepEqual(decodeCheckpoint(encodeCheckpoint({ ...tiny(), options }), 'run.ckpt').options, options);
});

test('a file without a saved option reads as the option\'s value in files from before it', (t) => {
  const type = checkpointMessageType();
  const bytes = encodeCheckpoint(tiny());
  for (const option of SAVED_OPTIONS) {
    if (!('oldFiles' in option)) continue;
    const wire = type.toObject(type.decode(bytes.subarray(0, bytes.length - CHECKSUM_BYTES)), { longs: Number }) as WireCheckpoint;
    delete wire.options![option.field];
    const old = appendChecksum(type.encode(wire).finish(), portableSha256);
    t.is<unknown, unknown>(decodeCheckpoint(old, 'old.ckpt').options[option.field], option.oldFiles, option.name);
  }
});
