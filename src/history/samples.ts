import { parseLines } from './lines.js';

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
  const { items: samples, ends, warnings } = parseLines(text, 0, 1, path, 'a sample', parseLine);
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
