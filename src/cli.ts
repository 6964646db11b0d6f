#!/usr/bin/env node
import { runGradcheck, gradcheckHelp } from './commands/gradcheck.js';
import { inspectHelp, runInspect } from './commands/inspect.js';
import { runSample, sampleHelp } from './commands/sample.js';
import { runTrain } from './commands/train.js';
import { parseTrainRequest, trainHelp } from './config.js';
import { TrainingError, UserError } from './errors.js';
import { packageVersion } from './version.js';

const USAGE = `usage: char-rnn <command> [options]

commands:
  train       train a character-level RNN on a text, in parallel across cores
  gradcheck   compare analytic gradients with centered finite differences
  inspect     show what a checkpoint file holds
  sample      write text drawn from a trained model to stdout

'char-rnn <command> --help' lists a command's options.`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command === 'train' ? trainHelp() : command === 'gradcheck' ? gradcheckHelp() : command === 'inspect' ? inspectHelp() : command === 'sample' ? sampleHelp() : USAGE}\n`);
    return 0;
  }
  switch (command) {
    case 'train':
      return runTrain(parseTrainRequest(rest));
    case 'gradcheck':
      return runGradcheck(rest);
    case 'inspect':
      return runInspect(rest);
    case 'sample':
      return runSample(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UserError(`unknown command '${command}' (commands: train, gradcheck, inspect, sample; see 'char-rnn --help')`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError) {
      process.stderr.write(`char-rnn: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof TrainingError) {
      process.stderr.write(`char-rnn: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      throw error;
    }
  },
);
