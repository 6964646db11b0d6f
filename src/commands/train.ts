import { existsSync } from 'node:fs';
import { loadCheckpoint } from '../checkpoint/index.js';
import { TRAIN_OPTIONS, trainRequest, type TrainConfig, type TrainRequest } from '../config.js';
import { sample } from '../generate.js';
import { chartWidth, readHistory, terminalChart, terminalColors } from '../history/index.js';
import { optionsHelp, parseOptions, type OptionGroup } from '../options.js';
import { createReporter } from '../progress.js';
import { budgetStopLine, endOfRunLines } from '../progress/headline.js';
import { removeUnfinishedWrites } from '../atomic-file.js';
import { runTraining, type RunOutcome } from '../api/run.js';
import { printReportWarnings, reportLine } from './report.js';
import { visibleText } from '../visible-text.js';

const EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** The headings of 'char-rnn train --help', in the order a new run is thought through; each option's `group` names one. */
export const TRAIN_GROUPS: readonly OptionGroup[] = [
  { name: 'data', title: 'data and threads' },
  { name: 'model', title: 'model' },
  { name: 'optimizer', title: 'optimizer' },
  { name: 'schedule', title: 'learning-rate schedule' },
  { name: 'length', title: 'run length' },
  { name: 'progress', title: 'evaluations and samples during the run' },
  { name: 'output', title: 'output' },
  { name: 'start', title: 'starting point' },
];

/** A few whole command lines, each with what it does. */
export const TRAIN_EXAMPLES: readonly (readonly [command: string, what: string])[] = [
  ['char-rnn train --minutes 5', 'the default GRU on the bundled State of the Union corpus, for five minutes'],
  ['char-rnn train --corpus poems/ --steps 2000', 'every text file in poems/, in name order, for 2,000 steps'],
  ['char-rnn train --corpus a.txt --corpus b.txt --cell lstm --layers 3 --dropout 0.2', 'two texts joined, on a deeper LSTM with dropout'],
  ['char-rnn train --resume checkpoints/run-1 --minutes 10', 'ten more minutes of run 1, exactly where it stopped'],
  ['char-rnn train --preset seed --corpus input.txt', 'the original assignment: one RNN layer of 100 units, AdaGrad'],
];

export function trainHelp(): string {
  const examples = TRAIN_EXAMPLES.map(([command, what]) => `  ${command}\n      ${what}`).join('\n');
  return `usage: char-rnn train [options]\n\n${optionsHelp(TRAIN_OPTIONS, TRAIN_GROUPS)}\n\nexamples:\n${examples}`;
}

export function parseTrainRequest(argv: readonly string[]): TrainRequest {
  return trainRequest(parseOptions('train', TRAIN_OPTIONS, argv));
}

export function runTrain(argv: readonly string[]): Promise<number> {
  return train(parseTrainRequest(argv));
}

/** 'char-rnn train': the library's run, with a progress bar, Ctrl-C handling and the end-of-run lines. */
async function train(request: TrainRequest): Promise<number> {
  const reporter = createReporter();
  const trainingStop = new AbortController();
  const reportStop = new AbortController();
  let phase: 'preparing' | 'training' | 'trained' = 'preparing';
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (phase === 'preparing') {
      // Nothing is written yet: die of the signal, as before the handlers were installed.
      stopListening();
      process.kill(process.pid, signal);
      return;
    }
    if (stoppedBy !== undefined) {
      reporter.finish(); // a second signal: leave now; saves are renames, so every checkpoint on disk is whole
      removeUnfinishedWrites();
      process.stderr.write(`char-rnn: stopped at once by a second ${signal}; the last saved checkpoint is intact\n`);
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    stoppedBy = signal;
    if (phase === 'trained') {
      reportStop.abort();
      return;
    }
    trainingStop.abort();
    reporter.log(`${signal}: stopping after this step and saving ${out}/last.ckpt (press Ctrl-C again to quit at once)`);
  };
  const stopListening = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  let out = request.config.out;
  let signalledInTraining = false;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runTraining(request, {
      reporter, signal: trainingStop.signal, reportSignal: reportStop.signal,
      onReady: (config) => {
        phase = 'training';
        out = config.out;
      },
      afterTraining: async ({ config, trained }) => {
        phase = 'trained';
        signalledInTraining = stoppedBy !== undefined; // during the final evaluation or save: the report is skipped
        await printLossChart(config);
        if (trained.interrupted) {
          process.stdout.write(`stopped at step ${trained.last.state.step}: saved ${trained.lastPath}\nresume with: npx parallel-char-rnn train --resume ${trained.lastPath}\n`);
        }
      },
    });
    return await finish(outcome, request, { stoppedBy, signalledInTraining });
  } finally {
    stopListening();
  }
}

/** The lines printed after training, and the exit code. */
async function finish(outcome: RunOutcome, request: TrainRequest, { stoppedBy, signalledInTraining }: { stoppedBy: NodeJS.Signals | undefined; signalledInTraining: boolean }): Promise<number> {
  const { config, trained: result, report: files } = outcome;
  if (files !== undefined) printReportWarnings(files);
  if (outcome.reportProblem !== undefined) {
    process.stderr.write(`char-rnn: warning: the report was not written (${outcome.reportProblem}); the checkpoints are saved and intact\n`);
  }
  const { state } = result.last;
  if (result.interrupted) {
    if (files !== undefined) process.stdout.write(`${reportLine(files)}\n`);
    return EXIT_CODES[stoppedBy ?? 'SIGINT'];
  }
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
}

/** The smooth and validation losses of the whole run (resumed sessions included), under the progress bar's last line. */
async function printLossChart(config: TrainConfig): Promise<void> {
  const history = await readHistory(config.out, { seqLength: config.seqLength });
  if (history === undefined || history.rows.length < 2) return;
  process.stdout.write(`${terminalChart(history.rows, { width: chartWidth(process.stdout), color: terminalColors(process.stdout) })}\n`);
}
