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
}
