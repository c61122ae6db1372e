import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';

/** Who is running: recorded on leases, migration records and history. */
export interface RunIdentity {
  readonly runId: string;
  readonly host: string;
  readonly pid: number;
  readonly user: string;
}

export function newRunIdentity(): RunIdentity {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return { runId: randomUUID(), host: hostname(), pid: process.pid, user };
}
