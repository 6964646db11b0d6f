import { UserError } from './errors.js';

/**
 * The report's renderers and the bundled corpus are optional dependencies: `npm install` brings
 * them, and a library user who only loads checkpoints and samples may skip them (--omit=optional).
 * Loads one of them, or says in one line what it is for and how to install it.
 */
export async function importOptional<T>(load: () => Promise<T>, packages: readonly string[], neededFor: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error)) throw error;
    const one = packages.length === 1;
    throw new UserError(`${neededFor} need${one ? 's' : ''} the optional package${one ? '' : 's'} ${packages.join(' and ')}, not installed here: npm install ${packages.join(' ')}`, { cause: error });
  }
}

export function isMissingPackage(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
