import { join } from 'node:path';
import { corpusFingerprint, saveCheckpoint, type CheckpointData, type LossPoint } from '../checkpoint/index.js';
import { checkpointOptions, type TrainConfig } from '../config.js';
import type { Corpus } from '../corpus.js';
import { TrainingError } from '../errors.js';
import { HistoryLog, RECENT_STEPS, TrailingMean } from '../history/index.js';
import { modelLayout, stateLength, type ModelDims } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';
import { refreshCopies, writeModelTables } from '../model/kernel-memory.js';
import { instantiateKernels, kernelModule } from '../model/kernels.js';
import { Prng } from '../model/prng.js';
import { sampleWith } from '../model/sample.js';
import type { Reporter } from '../progress.js';
import { formatPerChar } from '../progress/format.js';
import { decodeIds } from '../symbols.js';
import { visibleText } from '../visible-text.js';
import { planStreams, wrapPosition } from './plan.js';
import { createControl, WINDOW_STEPS } from './control.js';
import { createTrainPool } from './pool.js';
import { allocateMemory, planTrainingMemory, sharedArrays } from './shared-memory.js';
import { createFastStepper } from '../model/kernel-stepper.js';
import { heldOutLoss, meanLoss, windowEnd, writeStepScalars } from './window.js';
import { NO_PATIENCE_YET, patienceAfter } from './patience.js';
import { evaluationSteps, IntervalSchedule } from './intervals.js';
import type { TrainEvent, TrainResult } from './events.js';

export type { TrainEvent, TrainResult } from './events.js';

/** The smooth loss is recorded in the checkpoint's history every this many steps. */
const HISTORY_EVERY = 10;

/** Where a run begins: from scratch, from another run's weights, or exactly where a checkpoint stopped. */
export type TrainStart =
  | { readonly kind: 'fresh' }
  | { readonly kind: 'init-from'; readonly params: Float64Array }
  | { readonly kind: 'resume'; readonly checkpoint: CheckpointData };

export interface TrainOptions {
  readonly start?: TrainStart;
  /** Aborting stops the run after the current step (an evaluation is abandoned) and saves last.ckpt. */
  readonly signal?: AbortSignal;
  readonly packageVersion?: string;
  /** The folder whose history.csv and samples.jsonl a resumed run continues (default config.out). */
  readonly historyFrom?: string;
  /** Replaces the worker module; tests use it to make a worker fail. */
  readonly workerUrl?: URL;
  /** Called once the run is checked and its memory allocated, before it writes any file: a --force run moves the run it replaces aside here. */
  readonly onReady?: () => void;
  /** Called as steps, evaluations, samples and saves happen (a checkpoint event once the file is whole). */
  readonly onEvent?: (event: TrainEvent) => void;
}

/**
 * The training loop. In each step the workers compute every stream's loss, and each pair of
 * streams' gradient into the pair's own slot, then average the slots in order, clip and apply
 * the optimizer, a chunk of parameters at a time. They run windows of steps on their own; this
 * thread sets each step's learning rate beforehand, follows the losses, and decides when to
 * evaluate, sample, checkpoint and stop. Nothing here depends on the thread count.
 */
export async function train(config: TrainConfig, corpus: Corpus, reporter: Reporter, options: TrainOptions = {}): Promise<TrainResult> {
  const { seqLength: T, streams: B } = config;
  const dims: ModelDims = { cell: config.cell, L: config.layers, H: config.hidden, K: corpus.vocab.length };
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  const P = layout.size;
  const S = stateLength(cell, dims);
  const plan = planStreams(corpus.ids.length, config);
  const totalSteps = config.steps ?? config.epochs * plan.stepsPerEpoch; // Infinity: the time budget alone ends the run
  const trackVal = plan.evalSegments.length > 0;
  const fingerprint = corpusFingerprint(corpus);
  const start = options.start ?? { kind: 'fresh' };
  // The cosine's length is the run's when it starts: a resumed run that goes on longer keeps it.
  const schedule = { ...config, lrHorizon: start.kind === 'resume' ? start.checkpoint.options.lrHorizon : Number.isFinite(totalSteps) ? totalSteps : 0 };
  const signal = options.signal;

  // Everything the threads share lives in one WebAssembly memory, which the kernels work in.
  const module = kernelModule(config.dtype);
  const { shape, plan: memoryPlan } = planTrainingMemory({
    dims, T, B, dropout: config.dropout > 0, optimizer: config.optimizer, threads: config.threads, segments: plan.evalSegments.length, dtype: config.dtype,
  });
  const memory = allocateMemory(memoryPlan.bytes);
  const kernels = instantiateKernels(memory, module);
  writeModelTables(memory.buffer, memoryPlan.model, cell, layout);
  const { params, optimizerMemory, stepScalars, state, losses, stepEnds, evalLosses } = sharedArrays(memory.buffer, memoryPlan, shape);

  let prng = Prng.fromSeed(config.seed);
  let step = 0;
  let epoch = 1;
  let position = 0;
  let smoothLoss = Number.NaN;
  let bestLoss = Infinity;
  let bestStep = 0;
  let valLoss: number | undefined;
  let smoothHistory: LossPoint[] = [];
  let valHistory: LossPoint[] = [];
  cell.init(params, layout, prng);
  if (start.kind === 'init-from') params.set(start.params);
  if (start.kind === 'resume') {
    const s = start.checkpoint.state;
    params.set(s.params);
    optimizerMemory.set(s.optimizerState);
    state.set(s.hidden);
    prng = Prng.fromState(s.prngState);
    ({ step, epoch, position, smoothLoss, bestLoss, bestStep, valLoss } = s);
    smoothHistory = [...s.smoothHistory];
    valHistory = [...s.valHistory];
  }
  refreshCopies(kernels, memoryPlan.model, 0, P);
  options.onReady?.();
  const history = await HistoryLog.open({ out: config.out, from: options.historyFrom, step, charsPerStep: B * T, seqLength: T });
  for (const warning of history.warnings) reporter.log(`warning: ${warning}`);
  // The training loss per character over the last steps, for display only: nothing computed from it.
  const recent = new TrailingMean(RECENT_STEPS, history.recentLosses);

  // The time budget counts wall-clock seconds from the start of training, all sessions together.
  const secondsBefore = start.kind === 'resume' ? start.checkpoint.state.seconds : 0;
  let started = Number.NaN;
  const runSeconds = (): number => secondsBefore + (Number.isNaN(started) ? 0 : (performance.now() - started) / 1000);
  const secondsLeft = (): number | undefined => (config.minutes === undefined ? undefined : Math.max(0, config.minutes * 60 - runSeconds()));
  const heldOut = plan.evalSegments.reduce((chars, segment) => chars + segment.count, 0);
  const intervals = new IntervalSchedule(config, { startStep: step, totalSteps, evalSteps: evaluationSteps(heldOut, B * T), secondsLeft: secondsLeft() });

  const snapshot = (): CheckpointData => ({
    packageVersion: options.packageVersion ?? 'unknown',
    createdAt: new Date().toISOString(),
    model: { ...dims, vocab: corpus.vocab },
    options: checkpointOptions({ ...config, ...intervals.saved() }, schedule.lrHorizon),
    corpus: fingerprint,
    state: {
      step, epoch, position, streamLength: plan.streamLength, charsSeen: step * B * T, seconds: runSeconds(),
      params: params.slice(), optimizerState: optimizerMemory.slice(), hidden: state.slice(), prngState: prng.state(),
      smoothLoss, bestLoss, bestStep, bestMetric: trackVal ? 'val' : 'smooth', valLoss,
      smoothHistory: smoothHistory.slice(), valHistory: valHistory.slice(),
    },
  });
  const lastPath = join(config.out, 'last.ckpt');
  const bestPath = join(config.out, 'best.ckpt');
  const recordBest = async (loss: number): Promise<void> => {
    if (!(loss < bestLoss)) return;
    bestLoss = loss;
    bestStep = step;
    await saveCheckpoint(bestPath, snapshot());
    options.onEvent?.({ type: 'checkpoint', step, kind: 'best', path: bestPath });
  };

  const workers = `${config.threads} worker thread${config.threads === 1 ? '' : 's'}`;
  reporter.begin(`starting ${workers}`);
  const pool = createTrainPool({
    shape, streamLength: plan.streamLength, ids: corpus.ids.buffer as SharedArrayBuffer, idCount: corpus.ids.length,
    memory, module, plan: memoryPlan, control: createControl().buffer as SharedArrayBuffer,
    evalSegments: plan.evalSegments, optimizer: config, seed: config.seed, dropout: config.dropout,
  }, options.workerUrl);
  try {
    await pool.warmUp();
    reporter.done(`${workers} ready: ${B} streams of ${plan.streamLength} characters, ${plan.stepsPerEpoch} steps per epoch`);

    /** Validation loss in nats per character, or undefined when the run was stopped meanwhile. */
    const validate = async (): Promise<number | undefined> => {
      reporter.startEvaluation(step);
      try {
        if (!(await pool.evaluate(signal))) return undefined;
      } finally {
        reporter.endEvaluation();
      }
      return heldOutLoss(evalLosses, plan.evalSegments);
    };
    const sample = (): string => {
      const stepper = createFastStepper(params, dims, config.dtype); // the kernels' bits are the reference stepper's
      stepper.state.set(state.subarray(0, S)); // stream 0's state, as the seed sampled from its hprev
      const ids = sampleWith(stepper, corpus.ids[position], config.sampleLength, prng, { temperature: config.sampleTemperature });
      return decodeIds(ids, corpus.vocab);
    };
    /** Evaluation and checkpoints due after `step` steps; safe to repeat for the same step. */
    const bookkeeping = async (final: boolean): Promise<void> => {
      const { evalEvery } = intervals.current();
      if (trackVal && step > 0 && (final || intervals.evalDue(step)) && valHistory.at(-1)?.step !== step && !signal?.aborted) {
        const loss = await validate();
        if (loss !== undefined && !Number.isFinite(loss)) {
          throw new TrainingError(`the validation loss became ${loss} at step ${step}: training diverged (try a smaller --eta or --clip)`);
        }
        if (loss !== undefined) {
          valLoss = loss;
          valHistory.push({ step, loss });
          history.validation(step, loss);
          await history.flush();
          reporter.log(`step ${step}: validation ${formatPerChar(loss)}`);
          options.onEvent?.({ type: 'evaluation', step, valLoss: loss, best: loss < bestLoss });
          patience = patienceAfter(patience, { step, loss }, evalEvery);
          await recordBest(loss);
          if (config.patience > 0 && patience.since >= config.patience) stoppedEarly ??= 'patience';
        }
      }
      if (final || (step > 0 && config.checkpointEvery > 0 && step % config.checkpointEvery === 0)) {
        await history.flush(); // before any checkpoint of this step: a resume from it finds every row up to it
        if (!trackVal && step > 0) await recordBest(smoothLoss);
        await saveCheckpoint(lastPath, snapshot());
        options.onEvent?.({ type: 'checkpoint', step, kind: 'last', path: lastPath });
      }
    };

    // Counted from the history, so that a resumed run goes on counting.
    let patience = valHistory.reduce((standing, point) => patienceAfter(standing, point, intervals.current().evalEvery), NO_PATIENCE_YET);
    let stoppedEarly: TrainResult['stoppedEarly'];
    started = performance.now();
    const firstStep = step;
    /** Seconds of training this session, to each step's end: the rate and the ETA leave evaluations, samples and saves out. */
    let trainingSeconds = 0;
    const charsPerSec = (): number => (trainingSeconds > 0 ? ((step - firstStep) * B * T) / trainingSeconds : 0);
    const report = (): void => {
      const epochs = Math.ceil(totalSteps / plan.stepsPerEpoch);
      reporter.update({
        step, totalSteps, epoch, epochs, recentLoss: recent.mean(), recentSteps: recent.count(), smoothLoss: smoothLoss / T, valLoss,
        trainingSeconds, charsPerSec: charsPerSec(), budget: config.minutes === undefined ? undefined : { seconds: config.minutes * 60, left: secondsLeft() ?? 0 },
      });
    };
    const stopWindow = (): void => pool.requestStop();
    signal?.addEventListener('abort', stopWindow);
    reporter.startTraining(totalSteps, step);
    await bookkeeping(false);
    while (step < totalSteps && !signal?.aborted && stoppedEarly === undefined) {
      const wrap = wrapPosition(position, epoch, T, plan.streamLength);
      ({ position, epoch } = wrap);
      if (wrap.wrapped) state.fill(0); // a new epoch starts every stream from zero
      if (intervals.sampleDue(step)) {
        const text = sample();
        history.sample(step, epoch, text);
        reporter.log(`----- sample at step ${step} -----\n${visibleText(text)}\n-----`);
        options.onEvent?.({ type: 'sample', step, epoch, text });
      }

      // The workers run the steps up to the next one that needs this thread, keeping step among
      // themselves; the coordinator sets each step's update (its learning rate, and Adam's bias
      // corrections for update step + 1) beforehand, and follows the losses as they come.
      const { sampleEvery, evalEvery } = intervals.current();
      const count = windowEnd(step, { totalSteps, maxSteps: WINDOW_STEPS, every: [sampleEvery, trackVal ? evalEvery : 0, config.checkpointEvery] }) - step;
      writeStepScalars(stepScalars, schedule, { step, position, epoch, count, seqLength: T, streamLength: plan.streamLength });
      const windowStarted = performance.now();
      const secondsBefore = trainingSeconds;
      let row = 0;
      let diverged: number | undefined;
      /** Takes in the steps the workers have finished: the loss, the history, the time budget. */
      const follow = (completed: number): void => {
        for (; row < completed && diverged === undefined; row++) {
          if (row > 0) ({ position, epoch } = wrapPosition(position, epoch, T, plan.streamLength));
          const loss = meanLoss(losses, row, B);
          position += T;
          step++;
          if (!Number.isFinite(loss)) {
            diverged = loss;
            break;
          }
          smoothLoss = Number.isNaN(smoothLoss) ? loss : 0.999 * smoothLoss + 0.001 * loss;
          if (step % HISTORY_EVERY === 0 || step === totalSteps) smoothHistory.push({ step, loss: smoothLoss });
          const ended = stepEnds[row] - performance.timeOrigin; // when the step ended, on this thread's clock
          trainingSeconds = secondsBefore + (ended - windowStarted) / 1000;
          recent.add(loss / T);
          report();
          options.onEvent?.({ type: 'step', step, totalSteps, epoch, loss: loss / T, smoothLoss: smoothLoss / T, charsPerSec: charsPerSec(), seconds: trainingSeconds });
          history.record({ step, epoch, loss: loss / T, smoothLoss: smoothLoss / T, seconds: (ended - started) / 1000, charsPerSec: charsPerSec() });
        }
        if (config.minutes !== undefined && stoppedEarly === undefined && runSeconds() >= config.minutes * 60) {
          stoppedEarly = 'minutes';
          pool.requestStop();
        }
        if (config.minutes !== undefined && intervals.observe(step, trainingSeconds, secondsLeft() ?? 0)) pool.requestStop();
      };
      if (signal?.aborted) break;
      await pool.train(position, step, count, follow);
      if (diverged !== undefined) {
        throw new TrainingError(`the loss became ${diverged} at step ${step}: training diverged (try a smaller --eta or --clip)`);
      }
      if (step < totalSteps && stoppedEarly === undefined) await bookkeeping(false);
    }
    signal?.removeEventListener('abort', stopWindow);
    const interrupted = step < totalSteps && stoppedEarly === undefined;
    await bookkeeping(true);
    report(); // the final validation loss
    reporter.finish();
    const seconds = (performance.now() - started) / 1000;
    const rate = ((step - firstStep) * B * T) / seconds;
    return { interrupted, stoppedEarly, last: snapshot(), lastPath, bestPath, seconds, charsPerSec: rate, recentLoss: recent.mean(), recentSteps: recent.count() };
  } catch (error) {
    reporter.fail('training stopped');
    // The rows up to the failure are what the user needs to see what went wrong.
    await history.flush().catch((writeError: unknown) => reporter.log(`could not write the last history rows: ${String(writeError)}`));
    throw error;
  } finally {
    await pool.destroy();
  }
}
