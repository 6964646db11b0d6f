/** Remaining time from the average step rate since training (re)started. */
export class EtaClock {
  constructor(
    private readonly startStep: number,
    private readonly startTime: number,
  ) {}

  /** Seconds left, or undefined while no step has been timed yet. */
  remaining(step: number, totalSteps: number, time: number): number | undefined {
    const steps = step - this.startStep;
    const seconds = (time - this.startTime) / 1000;
    if (steps <= 0 || seconds <= 0) return undefined;
    return (Math.max(0, totalSteps - step) * seconds) / steps;
  }
}
