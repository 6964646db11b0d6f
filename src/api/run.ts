import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadCheckpoint } from '../checkpoint/index.js';
import type { TrainConfig, TrainRequest } from '../config.js';
import { MachineError, UserError } from '../errors.js';
import type { Reporter } from '../progress.js';
import { writeReport, type ReportFiles } from '../report/index.js';
import { claimRunFolder, LAST_CHECKPOINT, newRunFolder, recoverRunFolder, type RunFolder } from '../run-folder.js';
import { checkpointIn, runFolderOf } from '../run-lookup.js';
import type { DoneEvent, TrainEvent } from '../train/events.js';
import { train, type TrainResult } from '../train/train.js';
import { packageVersion } from '../version.js';
import type { CorpusText } from './options.js';
import { checkThereIsWorkLeft, prepare } from './prepare.js';

export interface RunHooks {
  readonly reporter: Reporter;
  /** The corpus, when given as a string rather than a path. */
  readonly text?: CorpusText;
  /** Stops training after the current step; last.ckpt is saved. */
  readonly signal?: AbortSignal;
  /** Abandons the report (default: signal): the CLI writes it after a first Ctrl-C, and a second one stops it. */
  readonly reportSignal?: AbortSignal;
  readonly onEvent?: (event: TrainEvent) => void;
  /** Training is about to start: the run is checked, its folder claimed and its text loaded. */
  readonly onReady?: (config: TrainConfig) => void;
  /** Training ended and its checkpoints are saved; the report is written after this returns. */
  readonly afterTraining?: (run: RunOutcome) => Promise<void> | void;
}

/** What a finished run left: its config, the loop's result, and the report or why there is none. */
export interface RunOutcome {
  readonly config: TrainConfig;
  readonly trained: TrainResult;
  readonly stoppedBy: DoneEvent['stoppedBy'];
  readonly report?: ReportFiles;
  /** Why the report was not written, when it was asked for and failed: the checkpoints are saved all the same. */
  readonly reportProblem?: string;
}

/**
 * A whole training run as 'char-rnn train' makes it: the run folder claimed and locked, the
 * starting point prepared (fresh, --init-from or --resume), the loop, then the report.
 * Nothing here prints or exits: what the user should see goes to the reporter and the events.
 */
export async function runTraining(request: TrainRequest, hooks: RunHooks): Promise<RunOutcome> {
  const { reporter } = hooks;
  const note = (message: string): void => {
    reporter.log(message);
    hooks.onEvent?.({ type: 'note', message });
  };
  // A --force run killed before its first save left the resumed run's files aside: put them back before looking for them.
  const recovered = request.resume === undefined ? [] : recoverRunFolder(runFolderOf(request.resume));
  // The folder is claimed before the corpus loads, so that a folder that cannot be used fails at once.
  const resumePath = request.resume === undefined ? undefined : checkpointIn(request.resume, LAST_CHECKPOINT);
  // A damaged checkpoint is refused before the folder is touched; prepare() reads it again under the lock.
  if (resumePath !== undefined) await loadCheckpoint(resumePath);
  const run = claimFolder(request, resumePath);
  try {
    if (run.removedDebris.length > 0) note(`removed ${run.removedDebris.length} unfinished save${run.removedDebris.length === 1 ? '' : 's'} left in ${run.path} by a trainer that was killed`);
    for (const message of [...recovered, ...run.notes]) note(message);
    const { config, corpus, start } = await prepare(request, resumePath, run.path, { reporter, note, text: hooks.text });
    checkThereIsWorkLeft(config, corpus, start);
    const trained = await train(config, corpus, reporter, {
      start, signal: hooks.signal, packageVersion: packageVersion(), historyFrom: resumePath === undefined ? undefined : dirname(resumePath),
      onReady: () => {
        run.replaceEarlier();
        hooks.onReady?.(config);
      },
      onEvent: (event) => {
        if (event.type === 'checkpoint') run.settle();
        hooks.onEvent?.(event);
      },
    });
    const stoppedBy = trained.interrupted ? 'abort' : (trained.stoppedEarly ?? 'end');
    const { state } = trained.last;
    hooks.onEvent?.({ type: 'done', step: state.step, epoch: state.epoch, stoppedBy, smoothLoss: state.smoothLoss / config.seqLength, valLoss: state.valLoss, recentLoss: trained.recentLoss, lastPath: trained.lastPath });
    const outcome: RunOutcome = { config, trained, stoppedBy };
    await hooks.afterTraining?.(outcome);
    // An abort that came as training finished (in the last evaluation or save) skips the report; one that interrupted it does not.
    const skip = !request.report || (!trained.interrupted && hooks.signal?.aborted === true);
    return skip ? outcome : { ...outcome, ...(await report(config.out, request.gradcheck, hooks.reportSignal ?? hooks.signal)) };
  } finally {
    run.release();
  }
}

/** The report, or why it could not be written: the checkpoints are what matters, and they are saved. */
async function report(out: string, gradcheck: boolean, signal: AbortSignal | undefined): Promise<Pick<RunOutcome, 'report' | 'reportProblem'>> {
  if (signal?.aborted) return {};
  try {
    return { report: await writeReport(out, { gradcheck, signal }) };
  } catch (error) {
    if (signal?.aborted) return {};
    if (!(error instanceof UserError || error instanceof MachineError)) throw error;
    return { reportProblem: error.message };
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
