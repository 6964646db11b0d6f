import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { errorCode } from '../file-errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { BEST_CHECKPOINT, RUNS_FOLDER } from '../run-folder.js';
import { checkpointIn } from '../run-lookup.js';
import { DEFAULT_WEB_ROOT, loadPageFiles } from '../serve/page-files.js';
import { RunCatalog } from '../serve/run-catalog.js';
import { createServeServer } from '../serve/server.js';

const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'runs', kind: 'string', metavar: 'FOLDER', help: `the folder whose run folders are served (default: ${RUNS_FOLDER}/)` },
  { name: 'checkpoint', kind: 'string', metavar: 'FILE', help: 'serve this one checkpoint file (or run folder\'s best.ckpt) instead, as a run named after it' },
  { name: 'host', kind: 'string', default: '127.0.0.1', help: 'the address to listen on; anything but loopback lets others on the network in, with no password' },
  { name: 'port', kind: 'int', default: 8080, min: 0, max: 65535, help: 'the port to listen on; 0 takes a free one (the address printed says which)' },
  { name: 'web-root', kind: 'string', metavar: 'FOLDER', help: 'the page bundle to serve (default: the package\'s dist/web/)' },
];

export function serveHelp(): string {
  return [
    'usage: char-rnn serve [--runs FOLDER | --checkpoint FILE] [--host 127.0.0.1] [--port 8080]',
    '',
    'Serves a web page to watch training runs, generate text and score it, and the HTTP API it',
    "uses (docs/serve.md). Prints its address; Ctrl-C stops it.",
    '',
    optionsHelp(SERVE_OPTIONS),
  ].join('\n');
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The warning printed when the server listens beyond this machine. */
export function exposedWarning(host: string): string {
  return `char-rnn serve: warning: listening on ${host}, not loopback: anyone who can reach this port can read the runs, their samples and models, and use this machine's CPU; there is no authentication`;
}

export async function runServe(argv: readonly string[]): Promise<number> {
  const v = parseOptions('serve', SERVE_OPTIONS, argv).values;
  const runs = v.runs as string | undefined;
  const checkpoint = v.checkpoint as string | undefined;
  if (runs !== undefined && checkpoint !== undefined) throw new UserError('pass --runs or --checkpoint, not both');
  if (checkpoint !== undefined && !existsSync(checkpoint)) throw new UserError(`no checkpoint file ${checkpoint} (name a file written by 'char-rnn train')`);
  const catalog = checkpoint !== undefined ? RunCatalog.ofCheckpoint(checkpointIn(checkpoint, BEST_CHECKPOINT), basename(resolve(checkpoint))) : RunCatalog.ofFolder(runs ?? RUNS_FOLDER);
  if (runs !== undefined && !existsSync(runs)) throw new UserError(`no folder ${runs} (pass --runs with the folder 'char-rnn train --out' wrote runs into)`);
  const host = v.host as string;
  const pages = loadPageFiles((v['web-root'] as string | undefined) ?? DEFAULT_WEB_ROOT);
  const loopbackOnly = isLoopback(host);
  const server = createServeServer({ catalog, pages, loopbackOnly, log: (line) => process.stderr.write(`${line}\n`) });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, host, v.port as number)));
    server.listen(v.port as number, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (!loopbackOnly) process.stderr.write(`${exposedWarning(host)}\n`);
  if (runs === undefined && checkpoint === undefined && !existsSync(RUNS_FOLDER)) {
    process.stderr.write(`char-rnn serve: ${RUNS_FOLDER}/ does not exist yet: runs trained into it will appear\n`);
  }
  process.stdout.write(`char-rnn serve: listening on http://${shown}:${address.port}/ (Ctrl-C stops it)\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

function listenError(error: unknown, host: string, port: number): Error {
  const code = errorCode(error);
  if (code === 'EADDRINUSE') return new UserError(`port ${port} on ${host} is in use: pass another --port, or --port 0 for a free one`);
  if (code === 'EACCES') return new UserError(`port ${port} needs privileges this user lacks: pass --port 1024 or above, or --port 0`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`cannot listen on --host ${host}: no such address on this machine (127.0.0.1 is the default)`);
  return error instanceof Error ? error : new Error(String(error));
}
