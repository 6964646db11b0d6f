/**
 * How English a model's samples read (`node dist/bench/words.js --checkpoint checkpoints/run-1/best.ckpt`):
 * of the words in a long sample at each temperature, the share that occur in the training text.
 * A word is a run of letters (with an apostrophe inside, as in "nation's"), compared in lower case.
 * The training text is the checkpoint's own (the bundled corpus unless --corpus is given).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { loadCorpusFile, loadDefaultCorpus } from '../src/corpus.js';
import { UserError } from '../src/errors.js';
import { sample } from '../src/generate.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../src/options.js';
import { formatTable, isPositive, parseList, runMain } from './format.js';

const WORDS_OPTIONS: readonly OptionSpec[] = [
  { name: 'checkpoint', kind: 'string', metavar: 'FILE', help: 'the model to sample (required)' },
  { name: 'corpus', kind: 'string', metavar: 'FILE', help: 'the text whose words count as real (default: the bundled corpus)' },
  { name: 'length', kind: 'int', default: 5000, min: 100, max: 10_000_000, help: 'characters sampled at each temperature' },
  { name: 'temperatures', kind: 'string', default: '1,0.8,0.6', help: 'comma-separated sampling temperatures' },
  { name: 'seed', kind: 'int', default: 1, min: 0, max: 0xffffffff, help: 'seed of the samples' },
  { name: 'help', kind: 'flag', help: 'print this help' },
];

const WORD = /[A-Za-z]+(?:'[A-Za-z]+)*/g;

function words(text: string): string[] {
  return (text.match(WORD) ?? []).map((word) => word.toLowerCase());
}

async function main(argv: readonly string[]): Promise<void> {
  const { values: v } = parseOptions('bench words', WORDS_OPTIONS, argv);
  if (v.help === true) {
    process.stdout.write(`usage: node dist/bench/words.js --checkpoint FILE [options]\n\n${optionsHelp(WORDS_OPTIONS)}\n`);
    return;
  }
  if (v.checkpoint === undefined) throw new UserError('give --checkpoint FILE: the model whose samples to read');
  const checkpoint = await loadCheckpoint(v.checkpoint as string);
  const corpus = v.corpus === undefined ? await loadDefaultCorpus() : await loadCorpusFile(v.corpus as string);
  const known = new Set<string>();
  // in chunks, so that no string of the whole text is built; a chunk's last, perhaps cut, word waits for the next
  let carried = '';
  for (let start = 0; start < corpus.ids.length; start += 1 << 16) {
    const chunk = carried + Array.from(corpus.ids.subarray(start, start + (1 << 16)), (id) => String.fromCodePoint(corpus.vocab[id])).join('');
    const cut = chunk.search(/\s\S*$/) + 1;
    for (const word of words(chunk.slice(0, cut))) known.add(word);
    carried = chunk.slice(cut);
  }
  for (const word of words(carried)) known.add(word);
  const temperatures = parseList('temperatures', v.temperatures as string, isPositive, 'positive numbers');
  const rows = temperatures.map((temperature) => {
    const sampled = words(sample(checkpoint, { length: v.length as number, temperature, seed: v.seed as number }));
    const real = sampled.filter((word) => known.has(word)).length;
    return [String(temperature), String(sampled.length), String(real), `${((100 * real) / sampled.length).toFixed(1)}%`];
  });
  process.stdout.write(`words of ${v.checkpoint as string}'s samples (${v.length as number} characters each, seed ${v.seed as number}) found in the ${known.size.toLocaleString('en-US')} distinct words of ${corpus.source}\n\n`);
  process.stdout.write(`${formatTable(['temperature', 'words', 'in the text', 'share'], rows)}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMain('words', main, process.argv.slice(2));
}
