import { UserError } from '../errors.js';

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
}

/** Parses samples.jsonl; a last line without its newline is a torn write and left out. */
export function parseSamples(text: string, path: string): ParsedSamples {
  const samples: SampleRecord[] = [];
  const ends: number[] = [];
  let start = 0;
  for (let lineNumber = 1; start < text.length; lineNumber++) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    const sample = parseLine(text.slice(start, end));
    if (sample === undefined) throw new UserError(`${path} is damaged: line ${lineNumber} is not a sample (train again, or delete the file)`);
    samples.push(sample);
    ends.push(end + 1);
    start = end + 1;
  }
  return { samples, ends };
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
