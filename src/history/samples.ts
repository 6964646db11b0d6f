import { UserError } from '../errors.js';
import { tornLine } from './history-row.js';

/** A sample printed during training, as kept in <out>/samples.jsonl (one JSON object a line). */
export interface SampleRecord {
  /** Steps done when it was drawn: it shows the model after `step` steps. */
  readonly step: number;
  readonly epoch: number;
  readonly text: string;
}

export function formatSample(sample: SampleRecord): string {
  return `${JSON.stringify({ step: sample.step, epoch: sample.epoch, text: sample.text })}\n`;
}

export interface ParsedSamples {
  readonly samples: SampleRecord[];
  /** Offset just past each sample's line. */
  readonly ends: number[];
  /** What was left out and why (a torn last line), for the caller to show. */
  readonly warnings: string[];
}

/**
 * Parses samples.jsonl. A last line that a crash or a full disk cut short (no newline, or not a
 * sample) is left out with a warning; any other line that is not a sample is a UserError.
 */
export function parseSamples(text: string, path: string): ParsedSamples {
  const samples: SampleRecord[] = [];
  const ends: number[] = [];
  const warnings: string[] = [];
  let start = 0;
  for (let lineNumber = 1; start < text.length; lineNumber++) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const sample = newline < 0 ? undefined : parseLine(text.slice(start, end));
    if (sample === undefined) {
      if (end + 1 < text.length) throw new UserError(`${path} is damaged: line ${lineNumber} is not a sample (train again, or delete the file)`);
      warnings.push(tornLine(path, lineNumber, newline < 0));
      break;
    }
    samples.push(sample);
    ends.push(end + 1);
    start = end + 1;
  }
  return { samples, ends, warnings };
}

function parseLine(line: string): SampleRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { step, epoch, text } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(step) || !Number.isSafeInteger(epoch) || typeof text !== 'string') return undefined;
  return { step: step as number, epoch: epoch as number, text };
}
