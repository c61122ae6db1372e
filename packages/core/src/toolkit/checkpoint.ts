import { InvalidOptionError } from '../errors.js';
import type { Checkpoint } from '../migration.js';

/**
 * A migration has one checkpoint per run; several toolkit calls in one migration (two collections, or two named steps
 * on one collection) share it. Each call's state is kept under its own key: the saved value is the running call's
 * state, flat (so `batches` reads as before), with the other calls' latest states under `others`.
 */
interface SavedState {
  readonly kind: string;
  readonly key?: string;
  readonly others?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const statesByAttempt = new WeakMap<Checkpoint, Map<string, Readonly<Record<string, unknown>>>>();
const claimedByAttempt = new WeakMap<Checkpoint, Set<string>>();

/** The key of one toolkit call's state: its kind, collection and step. */
export function stepKey(kind: string, collection: string, step: string | undefined): string {
  return `${kind}|${collection}|${step ?? ''}`;
}

function statesOf(checkpoint: Checkpoint): Map<string, Readonly<Record<string, unknown>>> {
  let states = statesByAttempt.get(checkpoint);
  if (!states) {
    states = new Map();
    const saved = checkpoint.load<SavedState & Record<string, unknown>>();
    if (saved && typeof saved === 'object' && typeof saved.kind === 'string') {
      const { key, others, ...state } = saved;
      // A state saved without a key (an earlier version) belongs to the one unnamed call of its kind.
      states.set(key ?? `${saved.kind}|`, state);
      for (const [k, v] of Object.entries(others ?? {})) states.set(k, v);
    }
    statesByAttempt.set(checkpoint, states);
  }
  return states;
}

/** What the previous, unfinished attempt saved for this call, if anything. */
export function loadStep<T extends { readonly kind: string }>(checkpoint: Checkpoint, key: string, kind: T['kind']): T | undefined {
  const states = statesOf(checkpoint);
  const state = states.get(key) ?? (key.endsWith('|') ? states.get(`${kind}|`) : undefined);
  return state?.kind === kind ? (state as unknown as T) : undefined;
}

/** Saves this call's state with the latest state of every other call in this run. */
export async function saveStep(checkpoint: Checkpoint, key: string, state: { readonly kind: string }): Promise<void> {
  const states = statesOf(checkpoint);
  states.delete(`${state.kind}|`);
  states.set(key, state as unknown as Readonly<Record<string, unknown>>);
  const others = Object.fromEntries([...states].filter(([k]) => k !== key));
  await checkpoint.save({ ...state, key, ...(Object.keys(others).length > 0 ? { others } : {}) });
}

/**
 * Refuses a second `backupAndUpdate` on the same collection and step in one run: its backups would share ids with the
 * first call's, and the first call's before-values would be lost.
 */
export function claimStep(checkpoint: Checkpoint, key: string, collection: string, step: string | undefined): void {
  let claimed = claimedByAttempt.get(checkpoint);
  if (!claimed) {
    claimed = new Set();
    claimedByAttempt.set(checkpoint, claimed);
  }
  if (claimed.has(key)) {
    throw new InvalidOptionError(
      `backupAndUpdate already ran on collection "${collection}"${step === undefined ? '' : ` as step "${step}"`} in this migration: give each backupAndUpdate call on the same collection its own \`step\` option, and restore them with restoreBackups and the same \`step\`, in reverse order, in down.`,
    );
  }
  claimed.add(key);
}
