import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { removeUnfinishedWrites } from '../atomic-file.js';
import { corpusFingerprint, loadCheckpoint, sameCorpus, type CheckpointData } from '../checkpoint/index.js';
import { checkFlagsApply, flagName, makeTrainConfig, MATH_OPTIONS, OLD_UNBOUNDED_EPOCHS, type TrainConfig, type TrainRequest } from '../config.js';
import { DEFAULT_CORPUS_SOURCE, loadCorpusFile, loadDefaultCorpus, type Corpus } from '../corpus.js';
import { MachineError, UserError } from '../errors.js';
import { sample } from '../generate.js';
import { chartWidth, readHistory, terminalChart, terminalColors } from '../history/index.js';
import { createReporter, type Reporter } from '../progress.js';
import { planStreams } from '../train/plan.js';
import { formatDuration } from '../progress/format.js';
import { budgetStopLine, endOfRunLines } from '../progress/headline.js';
import { writeReport, type ReportFiles } from '../report/index.js';
import { claimRunFolder, LAST_CHECKPOINT, newRunFolder, recoverRunFolder, type RunFolder } from '../run-folder.js';
import { checkpointIn, runFolderOf } from '../run-lookup.js';
import { printReportWarnings, reportLine } from './report.js';
import { train, type TrainStart } from '../train/train.js';
import { visibleText } from '../visible-text.js';
import { usesOnly, withVocabulary } from '../vocab.js';
import { packageVersion } from '../version.js';

const EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export async function runTrain(request: TrainRequest): Promise<number> {
  const reporter = createReporter();
  // A --force run killed before its first save left the resumed run's files aside: put them back before looking for them.
  const recovered = request.resume === undefined ? [] : recoverRunFolder(runFolderOf(request.resume));
  // The folder is claimed before the corpus loads, so that a folder that cannot be used fails at once.
  const resumePath = request.resume === undefined ? undefined : checkpointIn(request.resume, LAST_CHECKPOINT);
  // A damaged checkpoint is refused before the folder is touched; prepare() reads it again under the lock.
  if (resumePath !== undefined) await loadCheckpoint(resumePath);
  const run = claimFolder(request, resumePath);
  try {
    if (run.removedDebris.length > 0) reporter.log(`removed ${run.removedDebris.length} unfinished save${run.removedDebris.length === 1 ? '' : 's'} left in ${run.path} by a trainer that was killed`);
    for (const note of [...recovered, ...run.notes]) reporter.log(note);
    return await trainIn(run, request, resumePath, reporter);
  } finally {
    run.release();
  }
}

async function trainIn(run: RunFolder, request: TrainRequest, resumePath: string | undefined, reporter: Reporter): Promise<number> {
  const { config, corpus, start } = await prepare(request, resumePath, run.path, reporter);
  checkThereIsWorkLeft(config, corpus, start);

  const trainingStop = new AbortController();
  const reportStop = new AbortController();
  /** Training has returned: what is left is the report, which a signal stops. */
  let trained = false;
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy !== undefined) {
      reporter.finish(); // a second signal: leave now; saves are renames, so every checkpoint on disk is whole
      removeUnfinishedWrites();
      process.stderr.write(`char-rnn: stopped at once by a second ${signal}; the last saved checkpoint is intact\n`);
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    stoppedBy = signal;
    if (trained) {
      reportStop.abort();
      return;
    }
    trainingStop.abort();
    reporter.log(`${signal}: stopping after this step and saving ${config.out}/last.ckpt (press Ctrl-C again to quit at once)`);
  };
  /** The report, or undefined when it could not be written: the checkpoints are what matters, and they are saved. */
  const report = async (): Promise<ReportFiles | undefined> => {
    if (!request.report) return undefined;
    try {
      const files = await writeReport(config.out, { gradcheck: request.gradcheck, signal: reportStop.signal });
      printReportWarnings(files);
      return files;
    } catch (error) {
      if (reportStop.signal.aborted) return undefined;
      if (!(error instanceof UserError || error instanceof MachineError)) throw error;
      process.stderr.write(`char-rnn: warning: the report was not written (${error.message}); the checkpoints are saved and intact\n`);
      return undefined;
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const historyFrom = resumePath === undefined ? undefined : dirname(resumePath);
    const result = await train(config, corpus, reporter, {
      start, signal: trainingStop.signal, packageVersion: packageVersion(), historyFrom, onReady: () => run.replaceEarlier(), onSaved: () => run.settle(),
    });
    trained = true;
    const { state } = result.last;
    await printLossChart(config);
    if (result.interrupted) {
      process.stdout.write(`stopped at step ${state.step}: saved ${result.lastPath}\nresume with: npx char-rnn train --resume ${result.lastPath}\n`);
      const files = await report();
      if (files !== undefined) process.stdout.write(`${reportLine(files)}\n`);
      return EXIT_CODES[stoppedBy ?? 'SIGINT'];
    }
    const signalledInTraining = stoppedBy !== undefined; // during the final evaluation or save: the report is skipped
    const files = signalledInTraining ? undefined : await report();
    if (stoppedBy !== undefined) {
      const when = !request.report ? 'as training finished' : signalledInTraining ? 'as training finished, before the report' : 'while writing the report';
      process.stderr.write(`char-rnn: ${stoppedBy} ${when}: stopped; training finished and its checkpoints are saved in ${config.out}\n`);
      return EXIT_CODES[stoppedBy];
    }
    const best = existsSync(result.bestPath) ? await loadCheckpoint(result.bestPath) : undefined;
    const sampled = best ?? result.last;
    const early = result.stoppedEarly === 'patience'
      ? [`stopped early: no new best validation loss in ${config.patience} evaluations (--patience)`]
      : result.stoppedEarly === 'minutes' ? [budgetStopLine(config.minutes ?? 0)] : [];
    const lines = [
      ...early,
      `done: ${state.step} steps, epoch ${state.epoch}, ${state.charsSeen} characters; ${result.charsPerSec.toFixed(0)} chars/s over ${result.seconds.toFixed(1)} s with ${config.threads} thread${config.threads === 1 ? '' : 's'}`,
      ...endOfRunLines({ valLoss: state.valLoss, recentLoss: result.recentLoss, recentSteps: result.recentSteps, smoothLoss: state.smoothLoss, seqLength: config.seqLength }),
      best === undefined
        ? `saved ${result.lastPath}; no new lowest loss since the resume, so ${result.bestPath} was not written (the run's best.ckpt is where it started)`
        : `saved ${result.lastPath} and ${result.bestPath} (lowest ${state.bestMetric === 'val' ? 'validation' : 'smooth'} loss, step ${best.state.step})`,
      ...(files === undefined ? [] : [reportLine(files)]),
      `----- sample from ${best === undefined ? result.lastPath : result.bestPath} -----`,
      visibleText(sample(sampled, { length: config.sampleLength, temperature: config.sampleTemperature, seed: config.seed })),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return files?.gradcheckPassed === false ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The run's folder, locked: the resumed checkpoint's own folder, the --out the user named (which
 * may not hold another run unless --force), or a new numbered folder under checkpoints/.
 */
function claimFolder(request: TrainRequest, resumePath: string | undefined): RunFolder {
  const named = request.given.has('out') ? request.config.out : undefined;
  if (resumePath !== undefined) {
    const own = dirname(resumePath);
    return claimRunFolder(named ?? own, { newRun: named !== undefined && named !== own, force: false });
  }
  if (named !== undefined) {
    if (request.force && request.initFrom !== undefined && sameFolder(dirname(request.initFrom), named)) {
      throw new UserError(`--init-from ${request.initFrom} lies in ${named}, which --force would replace: copy the checkpoint elsewhere first, or pass another --out`);
    }
    return claimRunFolder(named, { newRun: true, force: request.force });
  }
  const { path, created } = newRunFolder();
  return claimRunFolder(path, { newRun: true, force: false, created });
}

/** The smooth and validation losses of the whole run (resumed sessions included), under the progress bar's last line. */
async function printLossChart(config: TrainConfig): Promise<void> {
  const history = await readHistory(config.out, { seqLength: config.seqLength });
  if (history === undefined || history.rows.length < 2) return;
  process.stdout.write(`${terminalChart(history.rows, { width: chartWidth(process.stdout), color: terminalColors(process.stdout) })}\n`);
}

/** The config, corpus and starting point of the run: fresh, fine-tuned, or resumed. */
async function prepare(request: TrainRequest, resumePath: string | undefined, out: string, reporter: Reporter): Promise<{ config: TrainConfig; corpus: Corpus; start: TrainStart }> {
  if (resumePath !== undefined) {
    const checkpoint = await loadCheckpoint(resumePath);
    const { config: resumed, length } = resumedConfig(checkpoint, request, resumePath);
    const config = { ...resumed, out };
    const source = config.corpus ?? (checkpoint.corpus.source === DEFAULT_CORPUS_SOURCE ? undefined : checkpoint.corpus.source);
    const loaded = await loadWithSpinner(source, reporter);
    // A fine-tuned run's text is encoded in the vocabulary of the checkpoint it started from, which may hold more symbols.
    const { vocab } = checkpoint.model;
    const corpus = usesOnly(loaded, vocab) ? withVocabulary(loaded, vocab) : undefined;
    if (corpus === undefined || !sameCorpus(corpusFingerprint(corpus), checkpoint.corpus)) {
      throw new UserError(
        `${loaded.source} is not the text ${resumePath} was trained on (${loaded.ids.length} characters, the checkpoint's had ${checkpoint.corpus.length} and another SHA-256); pass --corpus with the original text`,
      );
    }
    const { streamLength } = planStreams(corpus.ids.length, config);
    if (streamLength !== checkpoint.state.streamLength) {
      throw new UserError(
        `${resumePath} is damaged: it trains streams of ${checkpoint.state.streamLength} characters, where its text and options give ${streamLength} (the file was altered or partly written); use another checkpoint`,
      );
    }
    if (length !== undefined) reporter.log(length);
    return { config: { ...config, corpus: source }, corpus, start: { kind: 'resume', checkpoint } };
  }
  if (request.initFrom !== undefined) {
    const checkpoint = await loadCheckpoint(request.initFrom);
    const model = modelOptions(checkpoint);
    const differing = MODEL_OPTIONS.filter((field) => request.given.has(field) && request.config[field] !== model[field]);
    if (differing.length > 0) {
      const list = differing.map((field) => `${flagName(field)} ${request.config[field]} (it has ${model[field]})`).join(', ');
      throw new UserError(`cannot start from ${request.initFrom} with ${list}: its weights fit only its own model; drop the flag or train a new model without --init-from`);
    }
    // The defaults come from the checkpoint's cell; without --dtype, its precision: --init-from converts only when asked.
    const config = makeTrainConfig({ ...request.chosen, ...model, dtype: request.chosen.dtype ?? checkpoint.options.dtype, out });
    checkFlagsApply(config, request.given);
    const corpus = withVocabulary(await loadWithSpinner(config.corpus, reporter), checkpoint.model.vocab);
    return { config, corpus, start: { kind: 'init-from', params: checkpoint.state.params } };
  }
  return { config: { ...request.config, out }, corpus: await loadWithSpinner(request.config.corpus, reporter), start: { kind: 'fresh' } };
}

/**
 * A resumed run keeps every option that shapes the numbers; speed and bookkeeping options may
 * change, and default to the original run's (the thread count defaults to this machine's cores).
 * `length` says how long it goes on, when there is something to say.
 */
function resumedConfig(checkpoint: CheckpointData, request: TrainRequest, path: string): { config: TrainConfig; length: string | undefined } {
  const saved = { ...checkpoint.options, ...modelOptions(checkpoint) };
  const pick = <F extends keyof TrainConfig>(field: F, fallback: TrainConfig[F]): TrainConfig[F] =>
    request.given.has(field) ? request.config[field] : fallback;
  const { length, ...bounds } = resumedLength(checkpoint, request, path);
  const config = Object.freeze({
    ...request.config,
    ...Object.fromEntries(MATH_OPTIONS.map((field) => [field, saved[field]])),
    ...bounds,
    patience: pick('patience', saved.patience),
    evalEvery: pick('evalEvery', saved.evalEvery),
    sampleEvery: pick('sampleEvery', saved.sampleEvery),
    sampleLength: pick('sampleLength', saved.sampleLength),
    sampleTemperature: pick('sampleTemperature', saved.sampleTemperature),
    checkpointEvery: pick('checkpointEvery', saved.checkpointEvery),
    threads: Math.min(request.config.threads, saved.streams),
  } as TrainConfig);
  // A flag the run's own optimizer or schedule does not read is refused as such, before any as a change of the math.
  checkFlagsApply(config, request.given, { resumed: true });
  const differing = MATH_OPTIONS.filter((field) => request.given.has(field) && request.config[field] !== saved[field]);
  if (differing.length > 0) {
    const list = differing.map((field) => `${flagName(field)} ${request.config[field]} (the run used ${saved[field]})`).join(', ');
    throw new UserError(`cannot resume ${path} with ${list}: that would change the math; drop the flag or start a new run`);
  }
  return { config, length };
}

/**
 * How long a resumed run goes on: the rest of its own length (steps, epochs, what is left of its
 * time budget) unless --steps, --epochs or --minutes says otherwise; --minutes M is M more minutes.
 */
function resumedLength(checkpoint: CheckpointData, request: TrainRequest, path: string): Pick<TrainConfig, 'epochs' | 'steps' | 'minutes'> & { length: string | undefined } {
  const saved = checkpoint.options;
  const spent = checkpoint.state.seconds;
  const given = (field: keyof TrainConfig): boolean => request.given.has(field);
  const { steps, epochs, minutes: more } = request.config;
  const bound = given('steps') || given('epochs');
  const minutes = more !== undefined && given('minutes') ? spent / 60 + more : bound ? undefined : saved.minutes;
  const moreTime = given('minutes') ? ` for ${formatDuration((more ?? 0) * 60)} more (--minutes ${more})` : '';
  if (bound) {
    const until = given('epochs') ? `to the end of epoch ${epochs} (--epochs)` : `up to step ${steps} (--steps)`;
    const budgetGone = saved.minutes !== undefined && !given('minutes') ? `; its time budget of ${formatDuration(saved.minutes * 60)} no longer applies` : '';
    const length = `resuming ${path} ${until}${moreTime === '' ? '' : ` and${moreTime} at most`}${budgetGone}`;
    return given('epochs') ? { epochs, steps: undefined, minutes, length } : { epochs: saved.epochs, steps, minutes, length };
  }
  if (given('minutes')) return { epochs: saved.epochs, steps: saved.steps, minutes, length: `resuming ${path}${moreTime}` };
  if (saved.minutes === undefined && saved.steps === undefined && saved.epochs === OLD_UNBOUNDED_EPOCHS) {
    throw new UserError(`${path} plans ${OLD_UNBOUNDED_EPOCHS} epochs, as char-rnn recorded a time budget before it saved the budget itself: say how long to go on with --minutes, --steps or --epochs`);
  }
  if (saved.minutes === undefined) return { epochs: saved.epochs, steps: saved.steps, minutes, length: undefined };
  const budget = `its time budget of ${formatDuration(saved.minutes * 60)} (--minutes ${saved.minutes}`;
  const left = saved.minutes * 60 - spent;
  if (left <= 0) throw new UserError(`${path} has spent ${budget}): give --minutes M to train M more minutes, or --steps or --epochs`);
  return { epochs: saved.epochs, steps: saved.steps, minutes, length: `resuming ${path} with ${formatDuration(left)} left of ${budget}; give --minutes M for M more minutes instead)` };
}

/** Whether two paths name one folder, through links; a path that is not there is compared as written. */
function sameFolder(a: string, b: string): boolean {
  const real = (path: string): string => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path); // not there (yet): nothing to follow
    }
  };
  return real(a) === real(b);
}

/** The options that fix the shapes of a model's tensors. */
const MODEL_OPTIONS = ['cell', 'layers', 'hidden'] as const;

function modelOptions({ model }: CheckpointData): Pick<TrainConfig, (typeof MODEL_OPTIONS)[number]> {
  return { cell: model.cell, layers: model.L, hidden: model.H };
}

function checkThereIsWorkLeft(config: TrainConfig, corpus: Corpus, start: TrainStart): void {
  if (start.kind !== 'resume') return;
  const step = start.checkpoint.state.step;
  const total = config.steps ?? config.epochs * planStreams(corpus.ids.length, config).stepsPerEpoch;
  if (total <= step) {
    throw new UserError(
      `the checkpoint is at step ${step} and this run ends at step ${total}: nothing to do (pass a larger --steps or --epochs; both count from the start of the run)`,
    );
  }
}

async function loadWithSpinner(path: string | undefined, reporter: Reporter): Promise<Corpus> {
  const what = path ?? 'the State of the Union corpus';
  reporter.begin(`loading ${what}`);
  try {
    const corpus = path === undefined ? await loadDefaultCorpus() : await loadCorpusFile(path);
    reporter.done(`loaded ${corpus.source}: ${corpus.ids.length} characters, ${corpus.vocab.length} distinct symbols`);
    return corpus;
  } catch (error) {
    reporter.fail(`could not load ${what}`);
    throw error;
  }
}
