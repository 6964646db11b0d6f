import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { writeReport } from '../report/index.js';

const REPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'out', kind: 'string', metavar: 'DIR', default: 'checkpoints', help: 'the folder of a training run (its --out)' },
  { name: 'gradcheck', kind: 'flag', help: 'also check the gradients on a problem of the run\'s size, and show the figures' },
];

export function reportHelp(): string {
  return `usage: char-rnn report [options]\n\nWrites report.html, loss.svg and loss.png into a training run's folder.\n\n${optionsHelp(REPORT_OPTIONS)}`;
}

export async function runReport(argv: readonly string[]): Promise<number> {
  const v = parseOptions('report', REPORT_OPTIONS, argv).values;
  const files = await writeReport(v.out as string, { gradcheck: v.gradcheck === true });
  process.stdout.write(`${reportLine(files)}\n`);
  return files.gradcheckPassed === false ? 1 : 0;
}

/** 'report: checkpoints/report.html (chart: loss.svg, loss.png)', with the gradient check's verdict. */
export function reportLine(files: Awaited<ReturnType<typeof writeReport>>): string {
  const check = files.gradcheckPassed === undefined ? '' : `; gradient check ${files.gradcheckPassed ? 'passed' : 'FAILED'}`;
  return `report: ${files.html} (chart: ${files.svg}, ${files.png})${check}`;
}
