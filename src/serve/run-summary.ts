import type { CheckpointData } from '../checkpoint/index.js';
import type { HistoryRow } from '../history/index.js';
import { NO_PATIENCE_YET, patienceAfter } from '../train/patience.js';
import type { RunState, RunSummary } from './api-types.js';

// What `char-rnn serve` says about a run: pure functions of what was read from its folder.

/** What a summary needs of a run's newest checkpoint, kept instead of its tensors. */
export interface ProgressFacts {
  readonly cell: string;
  readonly layers: number;
  readonly hidden: number;
  readonly dtype: string;
  readonly step: number;
  readonly epoch: number;
  readonly bestValLoss: number | null;
  readonly seqLength: number;
  readonly plannedSteps: number;
  readonly minutes: number | undefined;
  readonly reachedPlannedEnd: boolean;
}

export function progressFacts(checkpoint: CheckpointData): ProgressFacts {
  const { model, options, state } = checkpoint;
  return {
    cell: model.cell,
    layers: model.L,
    hidden: model.H,
    dtype: options.dtype,
    step: state.step,
    epoch: state.epoch,
    bestValLoss: state.bestMetric === 'val' && Number.isFinite(state.bestLoss) ? state.bestLoss : null,
    seqLength: options.seqLength,
    plannedSteps: plannedSteps(checkpoint),
    minutes: options.minutes,
    reachedPlannedEnd: reachedPlannedEnd(checkpoint),
  };
}

/** The steps the run was started for: --steps, or --epochs' worth; Infinity when only a time budget bounds it. */
export function plannedSteps(checkpoint: CheckpointData): number {
  const { options, state } = checkpoint;
  if (options.steps !== undefined) return options.steps;
  if (options.epochs === Infinity) return Infinity;
  return options.epochs * Math.floor((state.streamLength - 1) / options.seqLength);
}

/** Whether the checkpoint's progress reached the run's planned end: its steps, its time budget, or --patience. */
export function reachedPlannedEnd(checkpoint: CheckpointData): boolean {
  const { options, state } = checkpoint;
  if (state.step >= plannedSteps(checkpoint)) return true;
  if (options.minutes !== undefined && state.seconds >= options.minutes * 60) return true;
  if (options.patience > 0) {
    const standing = state.valHistory.reduce((s, point) => patienceAfter(s, point, options.evalEvery), NO_PATIENCE_YET);
    if (standing.since >= options.patience) return true;
  }
  return false;
}

/** training: a live trainer holds the folder's lock; finished: the planned end was reached; else stopped. */
export function runState(training: boolean, progress: ProgressFacts | undefined): RunState {
  if (training) return 'training';
  return progress?.reachedPlannedEnd === true ? 'finished' : 'stopped';
}

export function summaryOf(name: string, progress: ProgressFacts | undefined, state: RunState, updatedMs: number | undefined): RunSummary {
  return {
    name,
    cell: progress?.cell ?? null,
    layers: progress?.layers ?? null,
    hidden: progress?.hidden ?? null,
    dtype: progress?.dtype ?? null,
    step: progress?.step ?? null,
    epoch: progress?.epoch ?? null,
    bestValLoss: progress?.bestValLoss ?? null,
    state,
    updatedAt: updatedMs === undefined ? null : new Date(updatedMs).toISOString(),
  };
}

/**
 * Seconds left of a training run: by its time budget, or its planned steps at the pace of its
 * last history rows, whichever ends first. Null when it is not training or nothing says.
 */
export function etaSeconds(progress: ProgressFacts | undefined, rows: readonly HistoryRow[], training: boolean): number | null {
  if (!training || progress === undefined || rows.length === 0) return null;
  const last = rows[rows.length - 1];
  const candidates: number[] = [];
  const { minutes } = progress;
  if (minutes !== undefined) candidates.push(Math.max(0, minutes * 60 - last.wallSeconds));
  const planned = progress.plannedSteps;
  const pace = stepsPerSecond(rows);
  if (Number.isFinite(planned) && pace !== undefined) candidates.push(Math.max(0, planned - last.step) / pace);
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/** Steps per second of wall time over the last rows (up to 20 steps back), if they span any time. */
function stepsPerSecond(rows: readonly HistoryRow[]): number | undefined {
  const last = rows[rows.length - 1];
  const first = rows[Math.max(0, rows.length - 21)];
  const seconds = last.wallSeconds - first.wallSeconds;
  return seconds > 0 && last.step > first.step ? (last.step - first.step) / seconds : undefined;
}
