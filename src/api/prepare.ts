import { corpusFingerprint, loadCheckpoint, sameCorpus, type CheckpointData } from '../checkpoint/index.js';
import { BOOKKEEPING_OPTIONS, checkFlagsApply, flagName, makeTrainConfig, MATH_OPTIONS, MODEL_OPTIONS, OLD_UNBOUNDED_EPOCHS, type ModelField, type TrainConfig, type TrainRequest } from '../config.js';
import { corpusSummary, loadCorpus, loadDefaultCorpus, savedCorpusSource, type Corpus, type CorpusSource } from '../corpus.js';
import { UserError } from '../errors.js';
import type { Reporter } from '../progress.js';
import { formatDuration } from '../progress/format.js';
import { describeCodePoint, encodeChunks } from '../symbols.js';
import { planStreams } from '../train/plan.js';
import type { TrainStart } from '../train/train.js';
import { extendedVocabulary, missingSymbols, usesOnly, widenedParams, withVocabulary } from '../vocab.js';
import type { CorpusText } from './options.js';

/** What the corpus is called in checkpoints and errors when it was given as a string without a name. */
export const TEXT_SOURCE = 'the text given to train()';

/** Where a run reports what it does before training: the spinner, and notes for the user. */
export interface RunContext {
  readonly reporter: Reporter;
  readonly note: (message: string) => void;
  /** The corpus, when it was given as a string rather than a path. */
  readonly text: CorpusText | undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface Prepared {
  readonly config: TrainConfig;
  readonly corpus: Corpus;
  readonly start: TrainStart;
}

/** The config, corpus and starting point of the run: fresh, fine-tuned, or resumed. */
export async function prepare(request: TrainRequest, resumePath: string | undefined, out: string, context: RunContext): Promise<Prepared> {
  if (resumePath !== undefined) {
    const checkpoint = await loadCheckpoint(resumePath);
    const { config: resumed, length } = resumedConfig(checkpoint, request, resumePath);
    const config = { ...resumed, out };
    const source = config.corpus ?? savedCorpusSource(checkpoint.corpus);
    const loaded = await loadRunCorpus(context.text ?? source, context.reporter);
    // A fine-tuned run's text is encoded in the vocabulary of the checkpoint it started from, which may hold more symbols.
    const { vocab } = checkpoint.model;
    const corpus = usesOnly(loaded, vocab) ? withVocabulary(loaded, vocab) : undefined;
    if (corpus === undefined || !sameCorpus(corpusFingerprint(corpus), checkpoint.corpus)) {
      throw new UserError(
        `${loaded.source} is not the text ${resumePath} was trained on (${loaded.ids.length} characters, the checkpoint's had ${checkpoint.corpus.length} and another SHA-256); pass --corpus with the original text`,
      );
    }
    const { streamLength } = planStreams(corpus.ids.length, config);
    if (streamLength !== checkpoint.state.streamLength) {
      throw new UserError(
        `${resumePath} is damaged: it trains streams of ${checkpoint.state.streamLength} characters, where its text and options give ${streamLength} (the file was altered or partly written); use another checkpoint`,
      );
    }
    if (length !== undefined) context.note(length);
    return { config: { ...config, corpus: source }, corpus, start: { kind: 'resume', checkpoint } };
  }
  if (request.initFrom !== undefined) {
    const checkpoint = await loadCheckpoint(request.initFrom);
    const model = modelOptions(checkpoint);
    const differing = MODEL_OPTIONS.filter((field) => request.given.has(field) && request.config[field] !== model[field]);
    if (differing.length > 0) {
      const list = differing.map((field) => `${flagName(field)} ${request.config[field]} (it has ${model[field]})`).join(', ');
      throw new UserError(`cannot start from ${request.initFrom} with ${list}: its weights fit only its own model; drop the flag or train a new model without --init-from`);
    }
    // The defaults come from the checkpoint's cell; without --dtype, its precision: --init-from converts only when asked.
    const config = makeTrainConfig({ ...request.chosen, ...model, dtype: request.chosen.dtype ?? checkpoint.options.dtype, out });
    checkFlagsApply(config, request.given);
    const loaded = await loadRunCorpus(context.text ?? config.corpus, context.reporter);
    const missing = missingSymbols(loaded, checkpoint.model.vocab);
    if (missing.length === 0 || !request.extendVocab) return { config, corpus: withVocabulary(loaded, checkpoint.model.vocab), start: { kind: 'init-from', params: checkpoint.state.params } };
    // New symbols go after the old ones, so that every trained row and column keeps its place.
    const vocab = extendedVocabulary(loaded, checkpoint.model.vocab);
    context.note(`--extend-vocab: added ${missing.length} character${missing.length === 1 ? '' : 's'} to the vocabulary of ${request.initFrom}: ${missing.slice(0, 20).map(describeCodePoint).join(', ')}${missing.length > 20 ? ', ...' : ''}`);
    const params = widenedParams(checkpoint.state.params, { ...checkpoint.model }, vocab.length, config.seed);
    return { config, corpus: withVocabulary(loaded, vocab), start: { kind: 'init-from', params } };
  }
  return { config: { ...request.config, out }, corpus: await loadRunCorpus(context.text ?? request.config.corpus, context.reporter), start: { kind: 'fresh' } };
}

/**
 * A resumed run keeps every option that shapes the numbers; speed and bookkeeping options may
 * change, and default to the original run's (the thread count defaults to this machine's cores).
 * `length` says how long it goes on, when there is something to say.
 */
function resumedConfig(checkpoint: CheckpointData, request: TrainRequest, path: string): { config: TrainConfig; length: string | undefined } {
  const saved = { ...checkpoint.options, ...modelOptions(checkpoint) };
  const { length, ...bounds } = resumedLength(checkpoint, request, path);
  const config = Object.freeze({
    ...request.config,
    ...Object.fromEntries(MATH_OPTIONS.map((field) => [field, saved[field]])),
    ...Object.fromEntries(BOOKKEEPING_OPTIONS.map((field) => [field, request.given.has(field) ? request.config[field] : saved[field]])),
    ...bounds, // the length's bookkeeping options go on from what is left of the run's (resumedLength)
    threads: Math.min(request.config.threads, saved.streams), // and the threads default to this machine's
  } as TrainConfig);
  // A flag the run's own optimizer or schedule does not read is refused as such, before any as a change of the math.
  checkFlagsApply(config, request.given, { resumed: true });
  const differing = MATH_OPTIONS.filter((field) => request.given.has(field) && request.config[field] !== saved[field]);
  if (differing.length > 0) {
    const list = differing.map((field) => `${flagName(field)} ${request.config[field]} (the run used ${saved[field]})`).join(', ');
    throw new UserError(`cannot resume ${path} with ${list}: that would change the math; drop the flag or start a new run`);
  }
  return { config, length };
}

/**
 * How long a resumed run goes on: the rest of its own length (steps, epochs, what is left of its
 * time budget) unless --steps, --epochs or --minutes says otherwise; --minutes M is M more minutes.
 */
function resumedLength(checkpoint: CheckpointData, request: TrainRequest, path: string): Pick<TrainConfig, 'epochs' | 'steps' | 'minutes'> & { length: string | undefined } {
  const saved = checkpoint.options;
  const spent = checkpoint.state.seconds;
  const given = (field: keyof TrainConfig): boolean => request.given.has(field);
  const { steps, epochs, minutes: more } = request.config;
  const bound = given('steps') || given('epochs');
  const minutes = more !== undefined && given('minutes') ? spent / 60 + more : bound ? undefined : saved.minutes;
  const moreTime = given('minutes') ? ` for ${formatDuration((more ?? 0) * 60)} more (--minutes ${more})` : '';
  if (bound) {
    const until = given('epochs') ? `to the end of epoch ${epochs} (--epochs)` : `up to step ${steps} (--steps)`;
    const budgetGone = saved.minutes !== undefined && !given('minutes') ? `; its time budget of ${formatDuration(saved.minutes * 60)} no longer applies` : '';
    const length = `resuming ${path} ${until}${moreTime === '' ? '' : ` and${moreTime} at most`}${budgetGone}`;
    return given('epochs') ? { epochs, steps: undefined, minutes, length } : { epochs: saved.epochs, steps, minutes, length };
  }
  if (given('minutes')) return { epochs: saved.epochs, steps: saved.steps, minutes, length: `resuming ${path}${moreTime}` };
  if (saved.minutes === undefined && saved.steps === undefined && saved.epochs === OLD_UNBOUNDED_EPOCHS) {
    throw new UserError(`${path} plans ${OLD_UNBOUNDED_EPOCHS} epochs, as char-rnn recorded a time budget before it saved the budget itself: say how long to go on with --minutes, --steps or --epochs`);
  }
  if (saved.minutes === undefined) return { epochs: saved.epochs, steps: saved.steps, minutes, length: undefined };
  const budget = `its time budget of ${formatDuration(saved.minutes * 60)} (--minutes ${saved.minutes}`;
  const left = saved.minutes * 60 - spent;
  if (left <= 0) throw new UserError(`${path} has spent ${budget}): give --minutes M to train M more minutes, or --steps or --epochs`);
  return { epochs: saved.epochs, steps: saved.steps, minutes, length: `resuming ${path} with ${formatDuration(left)} left of ${budget}; give --minutes M for M more minutes instead)` };
}

function modelOptions({ model }: CheckpointData): Pick<TrainConfig, ModelField> {
  return { cell: model.cell, layers: model.L, hidden: model.H };
}

export function checkThereIsWorkLeft(config: TrainConfig, corpus: Corpus, start: TrainStart): void {
  if (start.kind !== 'resume') return;
  const step = start.checkpoint.state.step;
  const total = config.steps ?? config.epochs * planStreams(corpus.ids.length, config).stepsPerEpoch;
  if (total <= step) {
    throw new UserError(
      `the checkpoint is at step ${step} and this run ends at step ${total}: nothing to do (pass a larger --steps or --epochs; both count from the start of the run)`,
    );
  }
}

/** The one way a run loads its text: files and folders, a string, or the bundled corpus. */
export async function loadRunCorpus(source: CorpusSource | CorpusText | undefined, reporter: Reporter): Promise<Corpus> {
  const what = isCorpusText(source) ? (source.name ?? TEXT_SOURCE) : source === undefined ? 'the State of the Union corpus' : typeof source === 'string' ? source : source.join(' + ');
  reporter.begin(`loading ${what}`);
  try {
    const corpus = isCorpusText(source) ? await corpusOfText(source.text, what) : source === undefined ? await loadDefaultCorpus() : await loadCorpus(source);
    reporter.done(`loaded ${corpusSummary(corpus)}`);
    return corpus;
  } catch (error) {
    reporter.fail(`could not load ${what}`);
    throw error;
  }
}

function isCorpusText(source: CorpusSource | CorpusText | undefined): source is CorpusText {
  return typeof source === 'object' && !Array.isArray(source);
}

async function corpusOfText(text: string, source: string): Promise<Corpus> {
  // A lone surrogate is no character: a UTF-8 file cannot hold one, and a checkpoint may not.
  const lone = text.search(LONE_SURROGATE);
  if (lone >= 0) throw new UserError(`${source} holds a lone UTF-16 surrogate at index ${lone}: pass well-formed text (String.prototype.toWellFormed mends it)`);
  const encoded = await encodeChunks(async function* () {
    yield text;
  });
  if (encoded === 'empty') throw new UserError(`${source} is empty: give train() some text in corpus: { text }`);
  if (typeof encoded === 'string') throw new Error(`${source} could not be encoded: ${encoded}`);
  return { source, ...encoded };
}
