/**
 * A mistake the user can fix (bad flag, missing corpus, unusable file). The CLI prints its
 * message as one line and exits with code 2; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** Training had to stop (a worker threw, the loss became NaN). The CLI exits with code 1. */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

/** The machine failed us (a full disk, an I/O error): one line, exit code 1, nothing the user did wrong. */
export class MachineError extends Error {
  override readonly name = 'MachineError';
}
