export { runCli, COMMANDS, type CliIo } from './cli.js';
export { DEFAULT_CLI_LOG_LEVEL, MAX_BATCH_SIZE } from './options.js';
export { DEFAULT_MIGRATIONS_DIR } from './settings.js';
export { ExitCode } from './exit-codes.js';
export { reportError, type ErrorReport } from './error-report.js';
export { renderRemedy, renderRemedies, whereFlags } from './remedy.js';
export { SAME_INTERRUPT_WINDOW_MS } from './interrupt.js';
