/**
 * One `char-rnn eval`, alone in its process so that its peak RSS is its own: runs the command with
 * these arguments, then prints one JSON line { peakRssMB }; memory.ts spawns it.
 */
import { runEval } from '../src/commands/eval.js';

await runEval(process.argv.slice(2));
process.stdout.write(`${JSON.stringify({ peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`); // maxRSS is in kilobytes
