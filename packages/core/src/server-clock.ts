import { performance } from 'node:perf_hooks';
import type { Db } from 'mongodb';
import { messageOf } from './driver-errors.js';
import { DatabaseNotReadyError } from './errors.js';

/**
 * The server's clock (`hello.localTime`), so that lease expiry and recorded times never depend on
 * the skew of the host that wrote them. One round trip per `sync()`; `now()` extrapolates locally.
 */
export class ServerClock {
  #offsetMs: number | undefined;

  constructor(private readonly db: Db) {}

  /** Reads the server's time and remembers the offset from ours. */
  async sync(): Promise<Date> {
    const sent = performance.now();
    let hello: { localTime?: unknown };
    try {
      // The primary's clock: the one that stamps leases, whatever the client's read preference.
      hello = await this.db.command({ hello: 1 }, { readPreference: 'primary' });
    } catch (error) {
      throw new DatabaseNotReadyError(messageOf(error), { cause: error });
    }
    const received = performance.now();
    if (!(hello.localTime instanceof Date)) throw new DatabaseNotReadyError('the server did not report hello.localTime');
    // The server read its clock about half-way through the round trip.
    const localAtServerRead = performance.timeOrigin + (sent + received) / 2;
    this.#offsetMs = hello.localTime.getTime() - localAtServerRead;
    return hello.localTime;
  }

  /** Server time, estimated from the last sync (syncs first if never synced). */
  async now(): Promise<Date> {
    if (this.#offsetMs === undefined) return this.sync();
    return this.estimate();
  }

  /** Server time from the last sync, without a round trip; falls back to the local clock before any sync. */
  estimate(): Date {
    return new Date(performance.timeOrigin + performance.now() + (this.#offsetMs ?? 0));
  }
}
