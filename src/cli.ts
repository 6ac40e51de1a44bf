import { ConfigError } from './config';

/** Runs a command's `main` and exits with its status; a configuration problem is told plainly. */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
