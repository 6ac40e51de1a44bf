/** Makes a migrated embedded data directory where its argument says (jest's global setup). */
import 'reflect-metadata';
import { createEmbeddedTemplate } from './database';

createEmbeddedTemplate(process.argv[2]).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`could not make the embedded test template: ${String(error)}\n`);
    process.exit(1);
  },
);
