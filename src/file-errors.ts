import { MachineError, UserError } from './errors.js';

/** File-system error codes that a user can fix, each with the words a message gives it. */
const USER_CAUSES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'a file is in the way',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  ENXIO: 'no reader or device behind it',
  EINVAL: 'the file system refused the operation',
};

/** Codes that mean the machine, not the user, failed. */
const MACHINE_CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  EFBIG: 'file too large',
};

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * The one vocabulary of file errors: `what` says what failed ('cannot write checkpoint x/last.ckpt'),
 * `hint` what to do. A code the user can fix becomes a UserError (exit 2), one where the machine
 * failed a MachineError (exit 1); anything else (a bug) passes through unchanged.
 */
export function fileError(error: unknown, what: string, hint: string): unknown {
  if (error instanceof UserError || error instanceof MachineError) return error;
  const code = errorCode(error);
  if (code === undefined) return error;
  if (Object.hasOwn(USER_CAUSES, code)) return new UserError(`${what}: ${USER_CAUSES[code]} (${code}); ${hint}`, { cause: error });
  if (Object.hasOwn(MACHINE_CAUSES, code)) return new MachineError(`${what}: ${MACHINE_CAUSES[code]} (${code}); ${hint}`, { cause: error });
  return error;
}
