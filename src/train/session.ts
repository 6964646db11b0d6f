import { join } from 'node:path';
import { corpusFingerprint, type CheckpointData, type CorpusFingerprint } from '../checkpoint/index.js';
import { checkpointOptions, type TrainConfig } from '../config.js';
import type { Corpus } from '../corpus.js';
import { HistoryLog, RECENT_STEPS, TrailingMean } from '../history/index.js';
import { modelLayout, stateLength, type ModelDims } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';
import { createFastStepper } from '../model/kernel-stepper.js';
import { refreshCopies, writeModelTables } from '../model/kernel-memory.js';
import { instantiateKernels, kernelModule } from '../model/kernels.js';
import { sampleWith } from '../model/sample.js';
import type { Reporter } from '../progress.js';
import { decodeIds } from '../symbols.js';
import { TrainingClock } from './clock.js';
import { createControl } from './control.js';
import { evaluationSteps, IntervalSchedule } from './intervals.js';
import { planStreams, stepPlace, type StreamPlan } from './plan.js';
import { createTrainPool, type TrainPool } from './pool.js';
import { checkpointState, freshRunState, resumedRunState, type RunState } from './run-state.js';
import type { ScheduleSettings } from './schedule.js';
import { allocateMemory, planTrainingMemory, sharedArrays, type SharedArrays } from './shared-memory.js';
import { heldOutLoss } from './window.js';
import type { TrainOptions } from './train.js';

/** Everything one session of a run works with: its plan, the threads' shared buffers, the run's state and its outputs. */
export interface Session {
  readonly config: TrainConfig;
  readonly corpus: Corpus;
  readonly reporter: Reporter;
  readonly options: TrainOptions;
  readonly dims: ModelDims;
  readonly fingerprint: CorpusFingerprint;
  readonly plan: StreamPlan;
  /** The run's last step; Infinity when the time budget alone ends it. */
  readonly totalSteps: number;
  /** Whether there is held-out text: the best checkpoint then follows the validation loss. */
  readonly trackVal: boolean;
  readonly schedule: ScheduleSettings & TrainConfig;
  readonly shared: SharedArrays;
  readonly run: RunState;
  readonly pool: TrainPool;
  readonly history: HistoryLog;
  /** The training loss per character over the last steps, for display only: nothing computed from it. */
  readonly recent: TrailingMean;
  readonly intervals: IntervalSchedule;
  readonly clock: TrainingClock;
  readonly lastPath: string;
  readonly bestPath: string;
}

/**
 * Lays the run out in one WebAssembly memory that every thread's kernels work in, puts the
 * model and the run's state where the start says, opens the history and starts the threads' pool.
 */
export async function openSession(config: TrainConfig, corpus: Corpus, reporter: Reporter, options: TrainOptions): Promise<Session> {
  const { seqLength: T, streams: B } = config;
  const dims: ModelDims = { cell: config.cell, L: config.layers, H: config.hidden, K: corpus.vocab.length };
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  const plan = planStreams(corpus.ids.length, config);
  const totalSteps = config.steps ?? config.epochs * plan.stepsPerEpoch; // Infinity: the time budget alone ends the run
  const start = options.start ?? { kind: 'fresh' };
  // The cosine's length is the run's when it starts: a resumed run that goes on longer keeps it.
  const lrHorizon = start.kind === 'resume' ? start.checkpoint.options.lrHorizon : Number.isFinite(totalSteps) ? totalSteps : 0;

  const module = kernelModule(config.dtype);
  const { shape, plan: memoryPlan } = planTrainingMemory({
    dims, T, B, dropout: config.dropout > 0, optimizer: config.optimizer, threads: config.threads, segments: plan.evalSegments.length, dtype: config.dtype,
  });
  const memory = allocateMemory(memoryPlan.bytes);
  const kernels = instantiateKernels(memory, module);
  writeModelTables(memory.buffer, memoryPlan.model, cell, layout);
  const shared = sharedArrays(memory.buffer, memoryPlan, shape);

  const run = start.kind === 'resume' ? resumedRunState(start.checkpoint.state) : freshRunState(config.seed);
  if (start.kind === 'resume') {
    shared.params.set(start.checkpoint.state.params);
    shared.optimizerMemory.set(start.checkpoint.state.optimizerState);
    shared.state.set(start.checkpoint.state.hidden);
  } else {
    cell.init(shared.params, layout, run.prng);
    if (start.kind === 'init-from') shared.params.set(start.params);
  }
  refreshCopies(kernels, memoryPlan.model, 0, layout.size);
  options.onReady?.();

  const history = await HistoryLog.open({ out: config.out, from: options.historyFrom, step: run.step, charsPerStep: B * T, seqLength: T });
  for (const warning of history.warnings) reporter.log(`warning: ${warning}`);
  const clock = new TrainingClock(start.kind === 'resume' ? start.checkpoint.state.seconds : 0, config.minutes);
  const heldOut = plan.evalSegments.reduce((chars, segment) => chars + segment.count, 0);
  const intervals = new IntervalSchedule(config, { startStep: run.step, totalSteps, evalSteps: evaluationSteps(heldOut, B * T), secondsLeft: clock.secondsLeft() });
  const pool = createTrainPool({
    shape, streamLength: plan.streamLength, ids: corpus.ids.buffer as SharedArrayBuffer, idCount: corpus.ids.length,
    memory, module, plan: memoryPlan, control: createControl().buffer as SharedArrayBuffer,
    evalSegments: plan.evalSegments, optimizer: config, seed: config.seed, dropout: config.dropout,
  }, options.workerUrl);
  return {
    config, corpus, reporter, options, dims, fingerprint: corpusFingerprint(corpus), plan, totalSteps, trackVal: plan.evalSegments.length > 0, schedule: { ...config, lrHorizon },
    shared, run, pool, history, recent: new TrailingMean(RECENT_STEPS, history.recentLosses), intervals, clock,
    lastPath: join(config.out, 'last.ckpt'), bestPath: join(config.out, 'best.ckpt'),
  };
}

/** The run as a checkpoint saves it, now. */
export function snapshot(s: Session): CheckpointData {
  const { config, shared } = s;
  return {
    packageVersion: s.options.packageVersion ?? 'unknown',
    createdAt: new Date().toISOString(),
    model: { ...s.dims, vocab: s.corpus.vocab },
    options: checkpointOptions({ ...config, ...s.intervals.saved() }, s.schedule.lrHorizon),
    corpus: s.fingerprint,
    state: checkpointState(s.run, {
      seqLength: config.seqLength, streams: config.streams, streamLength: s.plan.streamLength, seconds: s.clock.runSeconds(),
      bestMetric: s.trackVal ? 'val' : 'smooth', params: shared.params, optimizerState: shared.optimizerMemory, hidden: shared.state,
    }),
  };
}

/**
 * A sample from the model as it stands, from stream 0's state before the next step (as the seed
 * sampled from its hprev), primed with the symbol that step reads first; a step that starts an
 * epoch reads from a zero state.
 */
export function sampleText(s: Session): string {
  const { config, shared } = s;
  const place = stepPlace(s.run.step, config.seqLength, s.plan.streamLength);
  const stepper = createFastStepper(shared.params, s.dims, config.dtype); // the kernels' bits are the reference stepper's
  if (!place.startsEpoch) stepper.state.set(shared.state.subarray(0, stateLength(cellNamed(s.dims.cell), s.dims)));
  const ids = sampleWith(stepper, s.corpus.ids[place.position], config.sampleLength, s.run.prng, { temperature: config.sampleTemperature });
  return decodeIds(ids, s.corpus.vocab);
}

/** The validation loss in nats per character, or undefined when the signal stopped the evaluation. */
export async function validate(s: Session, signal: AbortSignal | undefined): Promise<number | undefined> {
  s.reporter.startEvaluation(s.run.step);
  try {
    if (!(await s.pool.evaluate(signal))) return undefined;
  } finally {
    s.reporter.endEvaluation();
  }
  return heldOutLoss(s.shared.evalLosses, s.plan.evalSegments);
}
