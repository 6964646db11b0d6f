import { generateStream, scorePositions, UserError, type WebModel } from 'parallel-char-rnn/browser';
import { BackendError, type ModelBackend } from './backend.js';

/**
 * The model of a static export, run in the page by the library's browser entry: the same code,
 * and so the same characters and scores, as 'char-rnn sample' and 'char-rnn eval'.
 */
export function localModel(model: WebModel): ModelBackend {
  return {
    async generate(request, onText, signal) {
      let characters = 0;
      const prime = request.prime ?? '';
      try {
        for await (const chunk of generateStream(model, { ...request, prime, signal })) {
          onText(chunk);
          characters += [...chunk].length;
        }
      } catch (error) {
        throw asBackendError(error, 'prime');
      }
      return characters - [...prime].length;
    },
    async score(text) {
      try {
        return scorePositions(model, text);
      } catch (error) {
        throw asBackendError(error, 'text');
      }
    },
  };
}

/** A UserError or RangeError (a bad option) as the page shows the API's 400s; anything else as it is. */
function asBackendError(error: unknown, field: string): unknown {
  if (error instanceof UserError) return new BackendError(error.message, field);
  if (error instanceof RangeError) return new BackendError(error.message);
  return error;
}
