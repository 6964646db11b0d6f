import { createRequire } from 'node:module';

/** This package's version, from its package.json (two levels above dist/src/). */
export function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
