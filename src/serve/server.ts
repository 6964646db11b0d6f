import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UserError } from '../errors.js';
import { generate, randomSeed } from '../generate.js';
import { describeUnknown, encodeKnown } from '../symbols.js';
import type { PageFile } from './page-files.js';
import { messageOf, RunUnavailable, type RunCatalog } from './run-catalog.js';
import { BadRequest, codePointCount, generateRequest, MAX_BODY_BYTES, parseJsonBody, routeOf, scoreRequest } from './requests.js';
import { GenerationPump, type PumpJob } from './generation-pump.js';
import { garbageCollectorEvery } from './reclaim-memory.js';
import { scoreWithDetail } from './scoring.js';

export interface ServeOptions {
  readonly catalog: RunCatalog;
  readonly pages: ReadonlyMap<string, PageFile>;
  /** Bound to loopback: requests must name a loopback host, which keeps out pages that rebind a DNS name to 127.0.0.1. */
  readonly loopbackOnly: boolean;
  /** Where a failure that is no one's request (a bug) is told. */
  readonly log: (line: string) => void;
}

/** Generations running at once, beyond which a new one is refused (503) rather than slowing all. */
export const MAX_GENERATIONS = 64;
/** The same for scores, each of which takes a slice of some 30 ms a turn of the event loop. */
export const MAX_SCORES = 8;

/** Milliseconds of generation a turn of the event loop, before the I/O gets its turn. */
const PUMP_BUDGET_MS = 20;

/** Generations and scores (each a WebAssembly memory of the weights) between full garbage collections. */
const MODEL_RUNS_PER_COLLECTION = 25;

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The HTTP server of `char-rnn serve` (not yet listening): the page, and the API of docs/serve.md. */
export function createServeServer(options: ServeOptions): Server {
  let generations = 0;
  let scores = 0;
  const pump = new GenerationPump(PUMP_BUDGET_MS);
  const modelRunEnded = garbageCollectorEvery(MODEL_RUNS_PER_COLLECTION);
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!(error instanceof HttpError || error instanceof BadRequest || error instanceof RunUnavailable || error instanceof UserError)) {
        options.log(`char-rnn serve: ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const [status, field] = error instanceof HttpError ? [error.status, error.field]
        : error instanceof BadRequest ? [400, error.field]
          : error instanceof RunUnavailable ? [error.status, undefined]
            : [500, undefined];
      sendJson(res, status, { error: messageOf(error), ...(field === undefined ? {} : { field }) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (options.loopbackOnly && !LOOPBACK_NAMES.has(hostName(req.headers.host ?? ''))) {
      throw new HttpError(403, `this server answers only requests for localhost or 127.0.0.1, not '${(req.headers.host ?? '').slice(0, 60)}'`);
    }
    const route = routeOf(req.method ?? 'GET', req.url ?? '/');
    switch (route.kind) {
      case 'static':
        return sendPage(req, res, route.path);
      case 'runs':
        return sendJson(res, 200, { runs: await options.catalog.list() });
      case 'run': {
        const detail = await options.catalog.detail(route.name, route.since);
        if (detail === undefined) throw noRun(route.name);
        return sendJson(res, 200, detail);
      }
      case 'generate':
      case 'score':
        refuseOtherOrigins(req);
        return route.kind === 'generate' ? streamGeneration(req, res, route.name) : score(req, res, route.name);
      case 'method not allowed':
        res.setHeader('Allow', route.allow === 'GET' ? 'GET, HEAD' : route.allow);
        throw new HttpError(405, `use ${route.allow} here`);
      case 'not found':
        throw new HttpError(404, 'not found');
    }
  }

  function sendPage(req: IncomingMessage, res: ServerResponse, path: string): void {
    const file = options.pages.get(path);
    if (file === undefined) throw new HttpError(404, 'not found');
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': file.body.length,
      'Cache-Control': 'no-cache',
      // cross-origin isolation, so that the page may use SharedArrayBuffer (the fast kernels)
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  async function streamGeneration(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const request = generateRequest(parseJsonBody(await readBody(req)));
    const checkpoint = await options.catalog.model(name);
    if (checkpoint === undefined) throw noRun(name);
    const { unknown } = encodeKnown(request.prime, checkpoint.model.vocab);
    if (unknown.length > 0) throw new BadRequest(`the prime has ${describeUnknown(unknown)} (use only characters the model was trained on)`, 'prime');
    if (generations >= MAX_GENERATIONS) throw new HttpError(503, `${MAX_GENERATIONS} generations are running: try again when one has finished`);
    const seed = request.seed ?? randomSeed();
    const stop = new AbortController();
    res.on('close', () => stop.abort(new Error('the client went away')));
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    generations++;
    try {
      const characters = await streamChunks(res, generate(checkpoint, { ...request, seed }), stop.signal);
      res.end(`event: done\ndata: ${JSON.stringify({ characters, seed })}\n\n`);
    } catch (error) {
      if (stop.signal.aborted) return; // the client went away: nothing to tell
      options.log(`char-rnn serve: generating from ${name}: ${messageOf(error)}`);
      res.end(`event: error\ndata: ${JSON.stringify({ error: messageOf(error) })}\n\n`);
    } finally {
      generations--;
      modelRunEnded();
    }
  }

  async function score(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const { text } = scoreRequest(parseJsonBody(await readBody(req)));
    const checkpoint = await options.catalog.model(name);
    if (checkpoint === undefined) throw noRun(name);
    if (scores >= MAX_SCORES) throw new HttpError(503, `${MAX_SCORES} texts are being scored: try again when one has finished`);
    const stop = new AbortController();
    res.on('close', () => stop.abort(new Error('the client went away')));
    scores++;
    try {
      sendJson(res, 200, await scoreWithDetail(checkpoint, text, stop.signal));
    } catch (error) {
      if (!stop.signal.aborted) throw error; // else the client went away: nothing to tell
    } finally {
      scores--;
      modelRunEnded();
    }
  }

  /**
   * Sends each chunk as a data event, the chunks made in the server's pump (a few ms each, round
   * robin with the other generations); a full socket pauses the stream until it drains. Resolves
   * with the characters sent; rejects with the signal's reason once the client went away.
   */
  function streamChunks(res: ServerResponse, chunks: Iterator<string>, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      let characters = 0;
      const job: PumpJob = {
        step: () => {
          if (signal.aborted) return 'done'; // rejected by the listener below
          let next: IteratorResult<string>;
          try {
            next = chunks.next();
          } catch (error) {
            reject(error);
            return 'done';
          }
          if (next.done === true) {
            resolve(characters);
            return 'done';
          }
          characters += codePointCount(next.value);
          if (res.write(`data: ${JSON.stringify({ text: next.value })}\n\n`)) return 'more';
          res.once('drain', () => {
            if (!signal.aborted) pump.add(job);
          });
          return 'wait';
        },
      };
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      pump.add(job);
    });
  }

  return server;
}


function noRun(name: string): HttpError {
  return new HttpError(404, `no run named '${name.slice(0, 80)}' (GET /api/runs lists them)`);
}

/** A page of another site may send a form or a fetch here; only this server's own page may make it work. */
function refuseOtherOrigins(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== req.headers.host) throw new HttpError(403, `requests from ${origin.slice(0, 80)} are refused: use the page this server serves`);
}

/** 'localhost' of 'localhost:8080', '[::1]' of '[::1]:8080', lower-cased. */
function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return name.toLowerCase();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(tooLarge(req));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        reject(tooLarge(req));
      } else {
        parts.push(part);
      }
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** 413, and the connection closes once it is sent rather than reading the rest of a body that large. */
function tooLarge(req: IncomingMessage): HttpError {
  req.pause();
  return new HttpError(413, `the body is over ${MAX_BODY_BYTES.toLocaleString('en-US')} bytes`);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' };
  if (status === 413) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
