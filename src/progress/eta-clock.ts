import type { StepStats } from './reporter.js';

/** Where a run stands: its fraction done, the seconds left, and whether the time budget (--minutes) or the step count ends it. */
export interface Standing {
  readonly fraction: number;
  readonly eta: number | undefined;
  readonly byTime: boolean;
}

/** Remaining time from the average step rate since training (re)started, in training time only. */
export class EtaClock {
  constructor(private readonly startStep: number) {}

  /**
   * Seconds left, or undefined while no step has been timed yet. trainingSeconds: the time spent in
   * the steps since startStep; evaluations and checkpoints are left out, so that one evaluation
   * does not make the rest of the run look slower.
   */
  remaining(step: number, totalSteps: number, trainingSeconds: number): number | undefined {
    const steps = step - this.startStep;
    if (steps <= 0 || !(trainingSeconds > 0)) return undefined;
    return (Math.max(0, totalSteps - step) * trainingSeconds) / steps;
  }

  /** The steps' standing, or the time budget's when it runs out first. */
  standing(stats: StepStats): Standing {
    const bySteps = this.remaining(stats.step, stats.totalSteps, stats.trainingSeconds);
    const budget = stats.budget;
    if (budget !== undefined && (bySteps === undefined || budget.left < bySteps)) {
      return { fraction: Math.min(1, Math.max(0, 1 - budget.left / budget.seconds)), eta: budget.left, byTime: true };
    }
    return { fraction: stats.totalSteps > 0 ? Math.min(1, Math.max(0, stats.step / stats.totalSteps)) : 1, eta: bySteps, byTime: false };
  }
}
