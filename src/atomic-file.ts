import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` atomically: the data goes to a temporary file beside it, is synced, and is
 * renamed over it, then the folder is synced so that the rename survives a crash. A reader sees
 * the old file or the new one, never a part; on failure the old file is untouched and the
 * temporary file removed. Creates the folder if needed. Errors are the file system's, unmapped.
 */
export async function replaceFileAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    await mkdir(folder, { recursive: true });
    const handle = await open(temp, 'wx');
    created = true;
    unfinished.add(temp);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    if (created) {
      await unlink(temp).catch((cleanupError: unknown) => {
        if (errorCode(cleanupError) !== 'ENOENT') throw new AggregateError([error, cleanupError], `writing ${path} failed, and its temporary file ${temp} could not be removed`);
      });
    }
    throw error;
  } finally {
    unfinished.delete(temp);
  }
  await syncFolder(folder);
}

/** Temporary files of replacements under way, so that a process leaving at once can remove them. */
const unfinished = new Set<string>();

/**
 * Removes the temporary files of replacements still under way, for a process about to exit at
 * once (a second Ctrl-C): their targets keep their previous content, and no debris is left.
 */
export function removeUnfinishedWrites(): void {
  for (const temp of unfinished) {
    try {
      unlinkSync(temp);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  unfinished.clear();
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for syncing there
  const handle = await open(folder, 'r');
  try {
    await handle.sync().catch(ignoreUnsupportedSync);
  } finally {
    await handle.close();
  }
}

function ignoreUnsupportedSync(error: unknown): void {
  const code = errorCode(error);
  if (code !== 'EINVAL' && code !== 'ENOTSUP') throw error;
}
