import { ConnectionString } from 'mongodb-connection-string-url';
import { AuthenticationFailedError } from './errors.js';
import { errorCode } from './driver-errors.js';

/** The server's code for rejected credentials. */
export const AUTHENTICATION_FAILED = 18;

/** An `AuthenticationFailedError` naming the URI's user when `error` (or its cause) is the server rejecting credentials. */
export function authenticationFailure(uri: string, error: unknown): AuthenticationFailedError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (errorCode(e) === AUTHENTICATION_FAILED) return new AuthenticationFailedError(userOf(uri), { cause: error });
  }
  return undefined;
}

/** The user name of a connection string, decoded; never the password. */
export function userOf(uri: string): string | undefined {
  try {
    const username = new ConnectionString(uri).username;
    return username ? decodeURIComponent(username) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a connection string carries a password. */
export function hasPassword(uri: string): boolean {
  try {
    return new ConnectionString(uri).password !== '';
  } catch {
    return /\/\/[^/@\s]*:[^/@\s]*@/.test(uri);
  }
}
