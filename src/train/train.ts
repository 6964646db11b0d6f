import { saveCheckpoint } from '../checkpoint/index.js';
import type { CheckpointData } from '../checkpoint/index.js';
import type { TrainConfig } from '../config.js';
import type { Corpus } from '../corpus.js';
import { TrainingError } from '../errors.js';
import type { Reporter } from '../progress.js';
import { formatPerChar } from '../progress/format.js';
import { visibleText } from '../visible-text.js';
import { WINDOW_STEPS } from './control.js';
import type { TrainEvent, TrainResult } from './events.js';
import { NO_PATIENCE_YET, patienceAfter, type PatienceStanding } from './patience.js';
import { placeAfter, stepPlace } from './plan.js';
import { recordBest, recordStep, recordValidation } from './run-state.js';
import { openSession, sampleText, snapshot, validate, type Session } from './session.js';
import { meanLoss, windowEnd, writeStepScalars } from './window.js';

export type { TrainEvent, TrainResult } from './events.js';

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


/** Why the loop stops before the run's last step, and --patience's count so far. */
interface Stopping {
  early: TrainResult['stoppedEarly'];
  patience: PatienceStanding;
}

/**
 * The training loop. In each step the workers compute every stream's loss, and each pair of
 * streams' gradient into the pair's own slot, then average the slots in order, clip and apply
 * the optimizer, a chunk of parameters at a time. They run windows of steps on their own; this
 * thread sets each step's place and learning rate beforehand, follows the losses, and decides
 * when to evaluate, sample, checkpoint and stop. Nothing here depends on the thread count.
 */
export async function train(config: TrainConfig, corpus: Corpus, reporter: Reporter, options: TrainOptions = {}): Promise<TrainResult> {
  const s = await openSession(config, corpus, reporter, options);
  const { run, pool, intervals, clock, signal } = { ...s, signal: options.signal };
  const workers = `${config.threads} worker thread${config.threads === 1 ? '' : 's'}`;
  reporter.begin(`starting ${workers}`);
  const stopWindow = (): void => pool.requestStop();
  try {
    await pool.warmUp();
    reporter.done(`${workers} ready: ${config.streams} streams of ${s.plan.streamLength} characters, ${s.plan.stepsPerEpoch} steps per epoch`);
    // Counted from the history, so that a resumed run goes on counting.
    const patience = run.valHistory.reduce((standing, point) => patienceAfter(standing, point, intervals.current().evalEvery), NO_PATIENCE_YET);
    const stop: Stopping = { early: undefined, patience };
    const firstStep = run.step;
    clock.start(run.step);
    signal?.addEventListener('abort', stopWindow);
    reporter.startTraining(s.totalSteps, run.step);
    await evaluateAndSave(s, stop, false);
    while (run.step < s.totalSteps && !signal?.aborted && stop.early === undefined) {
      if (intervals.sampleDue(run.step)) printSample(s);
      if (signal?.aborted) break; // the sample's listener may have stopped the run
      // The workers run the steps up to the next one that needs this thread, keeping step among
      // themselves; this thread writes down each step's place and update beforehand.
      const { sampleEvery, evalEvery } = intervals.current();
      const every = [sampleEvery, s.trackVal ? evalEvery : 0, config.checkpointEvery];
      const count = windowEnd(run.step, { totalSteps: s.totalSteps, maxSteps: WINDOW_STEPS, every }) - run.step;
      writeStepScalars(s.shared.stepScalars, s.schedule, { step: run.step, count, seqLength: config.seqLength, streamLength: s.plan.streamLength });
      await trainWindow(s, stop, count);
      if (run.step < s.totalSteps && stop.early === undefined) await evaluateAndSave(s, stop, false);
    }
    const interrupted = run.step < s.totalSteps && stop.early === undefined;
    await evaluateAndSave(s, stop, true);
    report(s); // the final validation loss
    reporter.finish();
    const seconds = clock.sessionSeconds(performance.now());
    const charsPerSec = ((run.step - firstStep) * config.streams * config.seqLength) / seconds;
    return { interrupted, stoppedEarly: stop.early, last: snapshot(s), lastPath: s.lastPath, bestPath: s.bestPath, seconds, charsPerSec, recentLoss: s.recent.mean(), recentSteps: s.recent.count() };
  } catch (error) {
    reporter.fail('training stopped');
    // The rows up to the failure are what the user needs to see what went wrong.
    await s.history.flush().catch((writeError: unknown) => reporter.log(`could not write the last history rows: ${String(writeError)}`));
    throw error;
  } finally {
    signal?.removeEventListener('abort', stopWindow);
    await pool.destroy();
  }
}

/**
 * Runs `count` steps on the workers and takes in each as they finish it: its loss, the history,
 * the display and the time budget (which may end the window early).
 */
async function trainWindow(s: Session, stop: Stopping, count: number): Promise<void> {
  const { run, clock, config } = s;
  const { seqLength: T, streams: B } = config;
  const windowStarted = performance.now();
  const secondsBefore = clock.trainingSeconds;
  let row = 0;
  let diverged: number | undefined;
  const follow = (completed: number): void => {
    for (; row < completed && diverged === undefined; row++) {
      const loss = meanLoss(s.shared.losses, row, B);
      if (!Number.isFinite(loss)) {
        diverged = loss;
        break;
      }
      const { epoch } = stepPlace(run.step, T, s.plan.streamLength);
      recordStep(run, loss, s.totalSteps);
      const ended = s.shared.stepEnds[row] - performance.timeOrigin; // when the step ended, on this thread's clock
      clock.stepEnded(run.step, secondsBefore + (ended - windowStarted) / 1000);
      s.recent.add(loss / T);
      report(s);
      const charsPerSec = clock.charsPerSec(B * T);
      s.options.onEvent?.({ type: 'step', step: run.step, totalSteps: s.totalSteps, epoch, loss: loss / T, smoothLoss: run.smoothLoss / T, charsPerSec, seconds: clock.trainingSeconds });
      s.history.record({ step: run.step, epoch, loss: loss / T, smoothLoss: run.smoothLoss / T, seconds: clock.sessionSeconds(ended), charsPerSec });
    }
    if (stop.early === undefined && clock.budgetSpent()) {
      stop.early = 'minutes';
      s.pool.requestStop();
    }
    if (config.minutes !== undefined && s.intervals.observe(run.step, clock.trainingSeconds, clock.secondsLeft() ?? 0)) s.pool.requestStop();
  };
  const first = run.step;
  await s.pool.train(first, count, follow);
  if (diverged !== undefined) {
    throw new TrainingError(`the loss became ${diverged} at step ${run.step + 1}: training diverged (try a smaller --eta or --clip)`);
  }
}

/** The evaluation and the checkpoints due after the current step, or the run's last ones; safe to repeat for the same step. */
async function evaluateAndSave(s: Session, stop: Stopping, final: boolean): Promise<void> {
  const { run, config, intervals, history, options } = s;
  const { evalEvery } = intervals.current();
  const evaluationDue = s.trackVal && run.step > 0 && (final || intervals.evalDue(run.step)) && run.valHistory.at(-1)?.step !== run.step;
  if (evaluationDue && !options.signal?.aborted) {
    const loss = await validate(s, options.signal);
    if (loss !== undefined && !Number.isFinite(loss)) {
      throw new TrainingError(`the validation loss became ${loss} at step ${run.step}: training diverged (try a smaller --eta or --clip)`);
    }
    if (loss !== undefined) {
      recordValidation(run, loss);
      history.validation(run.step, loss);
      await history.flush();
      s.reporter.log(`step ${run.step}: validation ${formatPerChar(loss)}`);
      options.onEvent?.({ type: 'evaluation', step: run.step, valLoss: loss, best: loss < run.bestLoss });
      stop.patience = patienceAfter(stop.patience, { step: run.step, loss }, evalEvery);
      await saveIfBest(s, loss);
      if (config.patience > 0 && stop.patience.since >= config.patience) stop.early ??= 'patience';
    }
  }
  if (final || (run.step > 0 && config.checkpointEvery > 0 && run.step % config.checkpointEvery === 0)) {
    await history.flush(); // before any checkpoint of this step: a resume from it finds every row up to it
    if (!s.trackVal && run.step > 0) await saveIfBest(s, run.smoothLoss);
    await saveCheckpoint(s.lastPath, snapshot(s));
    options.onEvent?.({ type: 'checkpoint', step: run.step, kind: 'last', path: s.lastPath });
  }
}

/** Saves best.ckpt when `loss` is the lowest tracked loss yet. */
async function saveIfBest(s: Session, loss: number): Promise<void> {
  if (!recordBest(s.run, loss)) return;
  await saveCheckpoint(s.bestPath, snapshot(s));
  s.options.onEvent?.({ type: 'checkpoint', step: s.run.step, kind: 'best', path: s.bestPath });
}

/** Prints a sample of the model as it stands, and keeps it in the run's samples. */
function printSample(s: Session): void {
  const text = sampleText(s);
  const { step } = s.run;
  const { epoch } = stepPlace(step, s.config.seqLength, s.plan.streamLength);
  s.history.sample(step, epoch, text);
  s.reporter.log(`----- sample at step ${step} -----\n${visibleText(text)}\n-----`);
  s.options.onEvent?.({ type: 'sample', step, epoch, text });
}

function report(s: Session): void {
  const { run, clock, plan, config } = s;
  s.reporter.update({
    step: run.step, totalSteps: s.totalSteps, epoch: placeAfter(run.step, config.seqLength, plan.streamLength).epoch, epochs: Math.ceil(s.totalSteps / plan.stepsPerEpoch),
    recentLoss: s.recent.mean(), recentSteps: s.recent.count(), smoothLoss: run.smoothLoss / config.seqLength, valLoss: run.valLoss,
    trainingSeconds: clock.trainingSeconds, charsPerSec: clock.charsPerSec(config.streams * config.seqLength), budget: clock.budget(),
  });
}
