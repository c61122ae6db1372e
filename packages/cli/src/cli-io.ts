/** Everything the CLI reads from or writes to its process: `runCli` touches nothing else, so tests can drive it. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** For confirmation prompts. */
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Where the config file search starts and relative paths resolve. */
  readonly cwd: string;
  /** A person can answer prompts (stdin and stderr are terminals). */
  readonly interactive: boolean;
  /** stderr is a terminal: draw progress bars. */
  readonly tty: boolean;
  /** Terminal width, if known. */
  readonly columns?: number;
  /** Subscribes to SIGINT/SIGTERM; returns the unsubscribe function. */
  onSignal(listener: (signal: NodeJS.Signals) => void): () => void;
}
