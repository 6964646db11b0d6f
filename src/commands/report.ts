import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { writeReport, type ReportFiles } from '../report/index.js';
import { requireNewestRun } from '../run-lookup.js';

const REPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'out', kind: 'string', metavar: 'DIR', help: 'the folder of a training run (its --out; default: the newest run under checkpoints/)' },
  { name: 'gradcheck', kind: 'flag', help: 'also check the gradients on a problem of the run\'s size, and show the figures' },
];

export function reportHelp(): string {
  return `usage: char-rnn report [options]\n\nWrites report.html, loss.svg and loss.png into a training run's folder.\n\n${optionsHelp(REPORT_OPTIONS)}`;
}

export async function runReport(argv: readonly string[]): Promise<number> {
  const v = parseOptions('report', REPORT_OPTIONS, argv).values;
  const folder = (v.out as string | undefined) ?? requireNewestRun();
  const files = await writeReport(folder, { gradcheck: v.gradcheck === true });
  printReportWarnings(files);
  process.stdout.write(`${reportLine(files)}\n`);
  return files.gradcheckPassed === false ? 1 : 0;
}

/** What the report left out of damaged history files, one warning line each on stderr. */
export function printReportWarnings(files: ReportFiles): void {
  for (const warning of files.warnings) process.stderr.write(`char-rnn: warning: ${warning}\n`);
}

/** 'report: checkpoints/run-1/report.html (chart: loss.svg, loss.png)', with the gradient check's verdict. */
export function reportLine(files: ReportFiles): string {
  const check = files.gradcheckPassed === undefined ? '' : `; gradient check ${files.gradcheckPassed ? 'passed' : 'FAILED'}`;
  return `report: ${files.html} (chart: ${files.svg}, ${files.png})${check}`;
}
