import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { appendFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

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
    const job = kept === undefined ? () => appendFile(this.path, text) : () => replaceFile(this.path, kept + text);
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

/** Temporary files of replacements under way, for a process about to exit at once. */
const unfinished = new Set<string>();

/** Removes the temporary files of replacements under way (the targets keep their previous content). */
export function removeUnfinishedHistoryWrites(): void {
  for (const temp of unfinished) {
    try {
      unlinkSync(temp);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  unfinished.clear();
}

async function replaceFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  unfinished.add(temp);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch((cleanupError: unknown) => {
      if ((cleanupError as NodeJS.ErrnoException).code !== 'ENOENT') throw new AggregateError([error, cleanupError], `could not remove ${temp}`);
    });
    throw error;
  } finally {
    unfinished.delete(temp);
  }
}

function writeError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EISDIR':
    case 'ENOTDIR':
      return new UserError(`cannot write ${path}: ${code} (check the folder's permissions and free space, or pass another --out)`, { cause: error });
    default:
      return error;
  }
}
