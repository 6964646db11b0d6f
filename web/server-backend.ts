import { BackendError, type GenerateRequest, type ModelBackend, type RunDetail, type RunsBackend, type RunSummary, type Score } from './backend.js';
import { EventStreamParser } from './sse.js';

/** The runs of 'char-rnn serve', through its HTTP API (docs/web.md). */
export function serverBackend(base = ''): RunsBackend {
  const path = (name: string): string => `${base}/api/runs/${encodeURIComponent(name)}`;
  return {
    runs: async () => (await json<{ runs: RunSummary[] }>(await fetch(`${base}/api/runs`))).runs,
    run: async (name, since) => json<RunDetail>(await fetch(`${path(name)}?since=${since}`)),
    model: (name) => serverModel(path(name)),
  };
}

function serverModel(path: string): ModelBackend {
  return {
    async generate(request: GenerateRequest, onText, signal) {
      const response = await fetch(`${path}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal });
      if (!response.ok || response.body === null) await json(response);
      const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
      const parser = new EventStreamParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) throw new BackendError('the server ended the stream before it was done');
        for (const { event, data } of parser.push(value)) {
          const body = JSON.parse(data) as { text?: string; characters?: number; error?: string };
          if (event === 'error') throw new BackendError(body.error ?? 'the server failed while generating');
          if (event === 'done') {
            await reader.cancel();
            return body.characters ?? 0;
          }
          if (typeof body.text === 'string') onText(body.text);
        }
      }
    },
    async score(text) {
      return json<Score>(await fetch(`${path}/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) }));
    },
  };
}

/** The body of a successful response; an error response is a BackendError with the API's message and field. */
async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BackendError(`the server answered ${response.status} ${response.statusText} with a body that is not JSON`, undefined, response.status);
  }
  if (!response.ok) {
    const { error, field } = body as { error?: string; field?: string };
    throw new BackendError(error ?? `the server answered ${response.status} ${response.statusText}`, field, response.status);
  }
  return body as T;
}
