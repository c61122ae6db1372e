export { runCli, type CliIo, DEFAULT_MIGRATIONS_DIR, DEFAULT_CLI_LOG_LEVEL, DEFAULT_CONNECT_TIMEOUT_MS } from './cli.js';
export { ExitCode } from './exit-codes.js';
export { reportError, type ErrorReport } from './error-report.js';
