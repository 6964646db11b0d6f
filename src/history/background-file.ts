import { appendFile } from 'node:fs/promises';
import { replaceFileAtomically } from '../atomic-file.js';
import { fileError } from '../file-errors.js';

/**
 * A file the training loop writes without waiting: write() queues text and returns at once, the
 * writes run one after another in the background, and settled() waits for them. The first write
 * replaces the whole file atomically (with what the run keeps from before, then the text), so
 * that a crash before it leaves the previous file whole; later writes append.
 */
export class BackgroundFile {
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;
  #kept: string | undefined;

  /** kept: the text the file starts with (a header, the rows kept from a resumed run). */
  constructor(
    readonly path: string,
    kept: string,
  ) {
    this.#kept = kept;
  }

  write(text: string): void {
    const kept = this.#kept;
    this.#kept = undefined;
    const job = kept === undefined ? () => appendFile(this.path, text) : () => replaceFileAtomically(this.path, kept + text);
    this.#chain = this.#chain.then(job).catch((error: unknown) => {
      this.#error ??= writeError(error, this.path);
    });
  }

  /** Makes sure the file is replaced even when nothing was written: a new run must not show an old run's lines. */
  touch(): void {
    if (this.#kept !== undefined) this.write('');
  }

  /** Throws the first write error, if one happened; cheap enough to call every step. */
  check(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /** Waits for every queued write, then throws the first that failed. */
  async settled(): Promise<void> {
    await this.#chain;
    this.check();
  }
}

function writeError(error: unknown, path: string): unknown {
  return fileError(error, `cannot write ${path}`, 'free some space or fix the folder\'s permissions, then resume from the last checkpoint');
}
