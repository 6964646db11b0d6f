import test from 'ava';
import { GenerationPump, type PumpJob, type StepResult } from '../src/serve/generation-pump.js';

// The pump that runs the server's generations: round robin, and the I/O gets turns in between.

function job(name: string, steps: number, log: string[]): PumpJob {
  let done = 0;
  return {
    step: (): StepResult => {
      log.push(`${name}${++done}`);
      return done < steps ? 'more' : 'done';
    },
  };
}

test('jobs take their steps in turn, and with no time to spare each turn of the event loop takes one step', async (t) => {
  const log: string[] = [];
  const pump = new GenerationPump(0);
  pump.add(job('a', 3, log));
  pump.add(job('b', 2, log));
  // another callback that takes a turn of its own each time, as the I/O does
  let turns = 0;
  const other = (): void => {
    log.push('io');
    if (++turns < 10) setImmediate(other);
  };
  setImmediate(other);
  for (let i = 0; i < 12; i++) await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(log.filter((entry) => entry !== 'io'), ['a1', 'b1', 'a2', 'b2', 'a3']);
  const adjacentSteps = log.some((entry, i) => i > 0 && entry !== 'io' && log[i - 1] !== 'io');
  t.false(adjacentSteps, `one step a turn: ${log.join(' ')}`);
});

test('a job that waits leaves the queue until it is added again', async (t) => {
  const log: string[] = [];
  const pump = new GenerationPump(1000);
  let waited = false;
  const waiting: PumpJob = {
    step: () => {
      log.push(waited ? 'w-again' : 'w');
      if (waited) return 'done';
      waited = true;
      return 'wait';
    },
  };
  pump.add(waiting);
  pump.add(job('b', 2, log));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(log, ['w', 'b1', 'b2']);
  pump.add(waiting);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(log, ['w', 'b1', 'b2', 'w-again']);
});
