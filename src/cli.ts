#!/usr/bin/env node
import { evalHelp, runEval } from './commands/eval.js';
import { exportHelp, runExport } from './commands/export.js';
import { runGradcheck, gradcheckHelp } from './commands/gradcheck.js';
import { importHelp, runImport } from './commands/import.js';
import { inspectHelp, runInspect } from './commands/inspect.js';
import { reportHelp, runReport } from './commands/report.js';
import { runSample, sampleHelp } from './commands/sample.js';
import { runServe, serveHelp } from './commands/serve.js';
import { runTrain, trainHelp } from './commands/train.js';
import { MachineError, TrainingError, UserError } from './errors.js';
import { fileError } from './file-errors.js';
import { closest } from './suggest.js';
import { packageVersion } from './version.js';

interface Command {
  readonly summary: string;
  readonly help: () => string;
  readonly run: (argv: readonly string[]) => Promise<number> | number;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  train: { summary: 'train a character-level RNN on a text, in parallel across cores', help: trainHelp, run: runTrain },
  sample: { summary: 'write text drawn from a trained model to stdout', help: sampleHelp, run: runSample },
  eval: { summary: "print a model's loss on a text, in nats and bits per character", help: evalHelp, run: runEval },
  gradcheck: { summary: 'compare analytic gradients with centered finite differences', help: gradcheckHelp, run: runGradcheck },
  inspect: { summary: 'show what a checkpoint file holds', help: inspectHelp, run: runInspect },
  report: { summary: 'write report.html with the learning curve and samples of a training run', help: reportHelp, run: runReport },
  export: { summary: 'write a model as safetensors with PyTorch\'s tensor names, and its config.json', help: exportHelp, run: runExport },
  import: { summary: 'build a checkpoint from a folder that export wrote', help: importHelp, run: runImport },
  serve: { summary: 'serve a web page to watch runs, generate and score text (and its HTTP API)', help: serveHelp, run: runServe },
};

const USAGE = `usage: char-rnn <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(11)} ${command.summary}`).join('\n')}

'char-rnn <command> --help' lists a command's options; 'char-rnn --version' prints the version.`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v' || name === '-V' || name === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    const meant = closest(name, Object.keys(COMMANDS));
    throw new UserError(`unknown command '${name}' (${meant === undefined ? `commands: ${Object.keys(COMMANDS).join(', ')}; see 'char-rnn --help'` : `did you mean ${meant}?`})`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help()}\n`);
    return 0;
  }
  return command.run(rest);
}

// A full disk or a closed pipe on stdout arrives as an 'error' event, not from write(): say it in one line.
// A reader that went away ('| head' has all it wants) is no failure: the command goes on, unheard.
let readerGone = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' || (readerGone && error.code === 'ERR_STREAM_DESTROYED')) {
    readerGone = true;
    return;
  }
  const failure = fileError(error, 'cannot write to standard output', 'write it somewhere with free space');
  process.stderr.write(`char-rnn: ${failure instanceof Error ? failure.message : String(error)}\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`char-rnn: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof TrainingError || error instanceof MachineError) {
      process.stderr.write(`char-rnn: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      throw error;
    }
  },
);
