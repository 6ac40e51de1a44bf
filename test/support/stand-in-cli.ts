/**
 * `npm run -s stand-in -- [key …]`: runs the provider stand-in on its own, accepting the given keys,
 * for trying the service by hand (or smoke tests) without reaching a provider. Prints the two base
 * URLs as environment assignments, then serves until stopped.
 */
import { startProviderStandIn } from './provider-stand-in';

startProviderStandIn({ acceptKeys: process.argv.slice(2) }).then(
  (standIn) => {
    process.stdout.write(`ANTHROPIC_BASE_URL=${standIn.anthropicBaseUrl}\nOPENAI_BASE_URL=${standIn.openaiBaseUrl}\n`);
    const stop = () => void standIn.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
