import type { HistoryEntry, ImpactReport, LockHolder, MigrationState, PreviewResult, RunResult, StatusReport, VerifyReport } from '@mongrate/core';
import { commandLine } from './remedy.js';

const n = (v: number) => v.toLocaleString('en-US');
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);
const when = (d: Date | undefined) => (d ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
const counts = (c: Readonly<Record<string, number>> | undefined) => (c && Object.keys(c).length ? Object.entries(c).map(([k, v]) => `${k} ${n(v)}`).join(', ') : '-');

/**
 * The line a command prints when it starts waiting for another process's lock: who holds it, until when, how long
 * this one waits, and what happens to a holder that has died. No promise computed from clocks: the lease end is the
 * server's, the wait the local one.
 */
export function renderLockWait(holder: LockHolder, waitMs: number): string {
  const who = `host ${holder.host}, pid ${holder.pid}${holder.user ? ` (user ${holder.user})` : ''}`;
  const until = holder.expiresAt ? `, its lease runs to ${when(holder.expiresAt)} unless renewed` : '';
  return `Waiting for the migration lock, held by ${who}${until}. Giving up ${Math.round(waitMs / 1000)} s after the wait began (--lock-timeout); a holder that has died is taken over once its lease expires, if that comes first.`;
}

/** Left-aligned text columns, right-aligned numbers. */
export function table(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null>>): string {
  // A migration's own report may hold other values (a Decimal128 sum, a Date): shown as their text.
  const cells = rows.map((r) => r.map((c: unknown) => (typeof c === 'number' ? n(c) : c === null || c === undefined ? '-' : String(c))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]) =>
    `  ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function renderReport(report: ImpactReport): string {
  const labelWidth = Math.max(...report.metrics.map((m) => m.label.length), 'Estimated time'.length);
  const lines = report.metrics.map((m) => `  ${m.label.padEnd(labelWidth)}  ${typeof m.value === 'number' ? n(m.value) : m.value}`);
  if (report.estimate) lines.push(`  ${'Estimated time'.padEnd(labelWidth)}  ${report.estimate.seconds} s (${report.estimate.basis})`);
  for (const t of report.tables ?? []) lines.push('', `${t.title}:`, t.rows.length ? table(t.columns, t.rows) : '  (none)');
  return lines.join('\n');
}

export function renderPreview(results: readonly PreviewResult[]): string {
  if (results.length === 0) return 'Nothing pending: no migration to preview.';
  return results
    .map((r) => [`Migration: ${r.id}${r.report ? ` (${r.report.title})` : ''}`, r.report ? renderReport(r.report) : `  ${r.note ?? ''}`].join('\n'))
    .join('\n\n');
}

/** A run's result; `summaries` holds each migration's own one-line summary (its `summary` export), by id. */
export function renderRun(result: RunResult, summaries: ReadonlyMap<string, string> = new Map()): string {
  if (result.nothingToDo) {
    // `down` throws when nothing is applied, so a `down` that reverted nothing found its targets reverted by another process.
    if (result.direction === 'down') return 'Nothing left to roll back: another process rolled back these migrations meanwhile.';
    return result.doneByAnother
      ? 'Nothing left to migrate: another process applied the pending migrations while this one waited for the lock.'
      : 'Nothing to migrate: the database is up to date.';
  }
  const verb = result.direction === 'up' ? 'Applied' : 'Rolled back';
  const lines = result.migrations.map((m) => {
    const headline = summaries.get(m.id);
    return `${verb} ${m.id} in ${seconds(m.durationMs)}${headline ? `: ${headline}` : ''}\n  counts: ${counts(m.counts)}`;
  });
  const total = result.migrations.reduce((s, m) => s + m.durationMs, 0);
  lines.push(`Execution time: ${seconds(total)}`);
  return lines.join('\n');
}

/** The first sentence (or clause before a ';') of a recorded error, at most 160 characters. */
function firstSentence(message: string): string {
  const first = /^[\s\S]*?(?:[.;](?=\s)|$)/.exec(message.trim())?.[0].replace(/[.;]$/, '') ?? '';
  return first.length > 160 ? `${first.slice(0, 159)}…` : first;
}

function stateLabel(s: MigrationState): string {
  const marks = [s.record?.baseline ? 'baseline' : '', s.record?.outOfOrder ? 'out of order' : '', s.drift ? `drift: ${s.drift}` : ''].filter(Boolean);
  return `${s.state}${marks.length ? ` (${marks.join(', ')})` : ''}`;
}

/**
 * `where` (see `whereFlags`) is repeated in each command the report suggests; `allowOutOfOrder`: the setting `up` will
 * run with (then a migration out of order does not block it).
 */
export function renderStatus(report: StatusReport, where = '', options: { readonly allowOutOfOrder?: boolean } = {}): string {
  const cmd = (command: string) => commandLine(command, where);
  const rows = report.migrations.map((s) => [
    s.id,
    stateLabel(s),
    when(s.record?.finishedAt ?? s.record?.startedAt),
    seconds(s.record?.durationMs),
    counts(s.record?.counts),
  ]);
  const lines = [table(['migration', 'state', 'when', 'duration', 'counts'], rows), ''];
  const live = report.lock && !report.lock.expired ? report.lock.holder : undefined;
  const partial = report.migrations.flatMap((s) => {
    const r = s.record;
    if (!r || !(r.status === 'applying' || r.status === 'reverting' || r.status === 'failed')) return [];
    // Why its last attempt stopped (an interrupt, or the error's first sentence), from the record.
    const why = r.status === 'failed' && r.error ? `${r.status}: ${firstSentence(r.error)}` : r.status;
    const line =
      r.direction === 'up'
        ? `${s.id} is partly applied (${why}): run ${cmd('up')} to resume it, or ${cmd(`down ${s.id}`)} to undo what it did.`
        : `${s.id} is partly reverted (${why}): run ${cmd(`down ${s.id}`)} again to finish the rollback. Or ${cmd(`up ${s.id}`)} re-applies it.`;
    // Its run still holds a live lease: it may be running right now, or was killed and its lease has not expired yet.
    return [live && live.runId === r.runId ? `${line} (Its run, host ${live.host} pid ${live.pid}, still holds the lock: it may be running right now.)` : line];
  });
  if (report.needed) {
    // Say what stands in the way, rather than suggest an `up` that would refuse to run.
    const [early] = options.allowOutOfOrder ? [] : report.outOfOrder;
    const blocked = report.drift.length
      ? `${cmd('up')} refuses to run while applied migrations differ from their files (drift, below): ${cmd('verify')} shows how, ${cmd('up --allow-drift')} runs despite it.`
      : early
        ? `${cmd('up')} refuses to run: ${early.id} sorts before the applied ${early.lastApplied}. ${cmd(`up ${early.id} --allow-out-of-order`)} applies it, and only it, out of order.`
        : undefined;
    const late = options.allowOutOfOrder && report.outOfOrder.length ? ` (${report.outOfOrder.map((o) => o.id).join(', ')} out of order: allowOutOfOrder is set)` : '';
    lines.push(`Migration needed: yes (${report.pending} pending). ${blocked ?? `Run ${cmd('preview')}, then ${cmd('up')}${late}.`}`);
  }
  else if (partial.length === 0) lines.push('Migration needed: no. The database is up to date.');
  lines.push(...partial);
  if (report.drift.length) lines.push(`Drift: ${report.drift.map((d) => `${d.id} (${d.kind})`).join(', ')}. Run ${cmd('verify')}.`);
  for (const s of report.migrations) {
    if (s.parkedConflicts) {
      lines.push(
        `${s.id} has ${s.parkedConflicts} parked conflict${s.parkedConflicts === 1 ? '' : 's'}: a rollback left documents the application had changed since \`up\` as they were (copies under \`conflict|…\` ids in migration_backups). ${cmd('verify')} counts its backups.`,
      );
    }
  }
  if (report.lock) {
    const h = report.lock.holder;
    lines.push(`Lock: held by host ${h.host}, pid ${h.pid}${report.lock.expired ? ` (expired: ${cmd('unlock')} removes it)` : ` until ${when(h.expiresAt)}`}.`);
  }
  return lines.join('\n');
}

export function renderHistory(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'No runs recorded yet.';
  return table(
    ['finished', 'migration', 'direction', 'outcome', 'duration', 'counts', 'user', 'host/pid'],
    entries.map((h) => [when(h.finishedAt), h.migrationId, h.direction, `${h.outcome}${h.outOfOrder ? ' (out of order)' : ''}`, seconds(h.durationMs), h.error ? `error: ${h.error}` : h.reason ? `${h.repair ? `${h.repair}; ` : ''}reason: ${h.reason}` : counts(h.counts), h.user, `${h.host}/${h.pid}`]),
  );
}

/** `where` (see `whereFlags`) is repeated in each command the report suggests. */
export function renderVerify(report: VerifyReport, where = ''): string {
  const cmd = (command: string) => commandLine(command, where);
  const lines = report.ok
    ? [report.checked === 0 ? 'OK: no migration is applied, so there is nothing to check.' : `OK: all ${report.checked} applied migrations match their files.`]
    : [
        'Drift found:',
        table(
          ['migration', 'problem', 'recorded checksum', 'file checksum'],
          report.drift.map((d) => [d.id, d.kind === 'changed' ? 'file changed since it ran' : 'file missing', d.recordedChecksum.slice(0, 12), d.currentChecksum?.slice(0, 12) ?? '-']),
        ),
        [
          'Restore the original files, or add a new migration for the change',
          ...(report.drift.some((d) => d.kind === 'changed') ? [`after a reviewed, cosmetic edit ${cmd('repair --reason …')} accepts it`] : []),
          ...report.drift.filter((d) => d.kind === 'missing').map((d) => `if ${d.id} was deleted on purpose, ${cmd(`repair ${d.id} --resolve pending --reason …`)} clears it`),
        ].join('; ') + '.',
      ];
  if (report.backups.length === 0) return lines.join('\n');
  lines.push('', 'Backups (migration_backups):', table(['migration', 'state', 'live', 'orphaned', 'parked conflicts'], report.backups.map((b) => [b.migrationId, b.state, b.live, b.orphaned, b.conflicts])));
  for (const b of report.backups) {
    const applied = b.state === 'applied' || b.state === 'reverting' || b.state === 'applying' || b.state === 'failed';
    if (!applied && b.live > 0) {
      lines.push(`${b.migrationId} is ${b.state} but has ${b.live} live backups: a run that lost its lease wrote after the rollback, or a cleanup was cut short. ${cmd(`down ${b.migrationId}`)} cannot take them; inspect them before deleting.`);
    }
    if (applied && b.orphaned > 0) {
      lines.push(`${b.migrationId}: ${b.orphaned} backups belong to documents that no longer hold what \`up\` wrote (changed since, or deleted): \`down\` leaves those as they are and reports them as conflicts.`);
    }
    if (b.conflicts > 0) lines.push(`${b.migrationId}: ${b.conflicts} parked conflicts from earlier rollbacks (\`conflict|…\` ids): documents left as the application wrote them.`);
  }
  return lines.join('\n');
}
