// The requests `char-rnn serve` answers, read and checked: pure functions, no I/O.

export const MAX_BODY_BYTES = 1_000_000;
export const MAX_TEXT_CHARACTERS = 10_000;
export const MAX_LENGTH = 100_000;
const MAX_SEED = 0xffffffff;

/** A request the server refuses with 400; `field` names the part of the body at fault. */
export class BadRequest extends Error {
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export type Route =
  | { readonly kind: 'static'; readonly path: string }
  | { readonly kind: 'runs' }
  | { readonly kind: 'run'; readonly name: string; readonly since: number }
  | { readonly kind: 'generate'; readonly name: string }
  | { readonly kind: 'score'; readonly name: string }
  | { readonly kind: 'not found' }
  | { readonly kind: 'method not allowed'; readonly allow: string };

/**
 * The route of a request. The path is split on '/' as it came, before any decoding, so that an
 * encoded slash stays inside its segment; a segment '.' or '..', decoded or not, matches nothing.
 */
export function routeOf(method: string, rawUrl: string): Route {
  const queryStart = rawUrl.indexOf('?');
  const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
  const query = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
  if (!rawPath.startsWith('/')) return { kind: 'not found' };
  const segments = rawPath.slice(1).split('/').map(decodeSegment);
  if (segments.some((s) => s === undefined || s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0'))) return { kind: 'not found' };
  const parts = segments as string[];
  const only = (allowed: string, route: Route): Route => (method === allowed || (allowed === 'GET' && method === 'HEAD') ? route : { kind: 'method not allowed', allow: allowed });
  if (parts[0] !== 'api') return only('GET', { kind: 'static', path: rawPath });
  if (parts.length === 2 && parts[1] === 'runs') return only('GET', { kind: 'runs' });
  if (parts.length === 3 && parts[1] === 'runs' && parts[2] !== '') return only('GET', { kind: 'run', name: parts[2], since: sinceOf(query.get('since')) });
  if (parts.length === 4 && parts[1] === 'runs' && parts[2] !== '') {
    if (parts[3] === 'generate') return only('POST', { kind: 'generate', name: parts[2] });
    if (parts[3] === 'score') return only('POST', { kind: 'score', name: parts[2] });
  }
  return { kind: 'not found' };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** ?since=S: only rows and samples of steps after S; absent, everything. */
function sinceOf(text: string | null): number {
  if (text === null) return -Infinity;
  const since = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(since)) throw new BadRequest(`since must be a step number (an integer), got '${text.slice(0, 40)}'`, 'since');
  return since;
}

export interface GenerateRequest {
  readonly prime: string;
  readonly temperature: number;
  readonly topK: number | undefined;
  readonly topP: number | undefined;
  readonly length: number;
  readonly seed: number | undefined;
}

/** The body of POST .../generate, checked as `char-rnn sample` checks its flags. */
export function generateRequest(body: unknown): GenerateRequest {
  const fields = objectOf(body, ['prime', 'temperature', 'topK', 'topP', 'length', 'seed']);
  const prime = optionalText(fields, 'prime', 0) ?? '';
  const temperature = optionalNumber(fields, 'temperature', { min: 0 }) ?? 1;
  const topK = optionalNumber(fields, 'topK', { integer: true, min: 1 });
  const topP = optionalNumber(fields, 'topP', { minExclusive: 0, max: 1 });
  const length = optionalNumber(fields, 'length', { integer: true, min: 1, max: MAX_LENGTH });
  if (length === undefined) throw new BadRequest(`length is required: the characters to generate after the prime, 1 to ${MAX_LENGTH.toLocaleString('en-US')}`, 'length');
  const seed = optionalNumber(fields, 'seed', { integer: true, min: 0, max: MAX_SEED });
  return { prime, temperature, topK, topP, length, seed };
}

/** The body of POST .../score: { text } of 2 to 10,000 characters. */
export function scoreRequest(body: unknown): { readonly text: string } {
  const fields = objectOf(body, ['text']);
  const text = optionalText(fields, 'text', 2);
  if (text === undefined) throw new BadRequest('text is required: the text to score, 2 to 10,000 characters', 'text');
  return { text };
}

/** The body as JSON, or a BadRequest saying it is not. */
export function parseJsonBody(bytes: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadRequest('the body is not UTF-8: send JSON in UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('the body is not JSON: send a JSON object');
  }
}

function objectOf(body: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('the body must be a JSON object');
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new BadRequest(`unknown field '${unknown.slice(0, 40)}' (fields: ${known.join(', ')})`, unknown);
  return fields;
}

function optionalText(fields: Record<string, unknown>, name: string, minCharacters: number): string | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${name} must be a string`, name);
  const characters = codePointCount(value);
  if (characters > MAX_TEXT_CHARACTERS) throw new BadRequest(`${name} has ${characters.toLocaleString('en-US')} characters: at most ${MAX_TEXT_CHARACTERS.toLocaleString('en-US')}`, name);
  if (characters < minCharacters) throw new BadRequest(`${name} has ${characters} character${characters === 1 ? '' : 's'}: at least ${minCharacters} are needed (the first is only read; each later one is predicted)`, name);
  return value;
}

interface NumberBounds {
  readonly integer?: boolean;
  readonly min?: number;
  readonly minExclusive?: number;
  readonly max?: number;
}

function optionalNumber(fields: Record<string, unknown>, name: string, bounds: NumberBounds): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  const what = bounds.integer === true ? 'an integer' : 'a number';
  const range = [
    bounds.min !== undefined ? `at least ${bounds.min}` : undefined,
    bounds.minExclusive !== undefined ? `greater than ${bounds.minExclusive}` : undefined,
    bounds.max !== undefined ? `at most ${bounds.max.toLocaleString('en-US')}` : undefined,
  ].filter((part) => part !== undefined).join(' and ');
  const ok = typeof value === 'number' && Number.isFinite(value) && (bounds.integer !== true || Number.isSafeInteger(value))
    && (bounds.min === undefined || value >= bounds.min) && (bounds.minExclusive === undefined || value > bounds.minExclusive)
    && (bounds.max === undefined || value <= bounds.max);
  if (!ok) throw new BadRequest(`${name} must be ${what}${range === '' ? '' : ` ${range}`}, got ${JSON.stringify(value)?.slice(0, 40)}`, name);
  return value as number;
}

/** Characters as the model counts them: code points, a surrogate pair being one. */
export function codePointCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
