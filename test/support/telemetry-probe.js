/**
 * Preloaded (`node -r`) into a service under test: on SIGUSR2 it writes to TELEMETRY_PROBE_FILE
 * what of OpenTelemetry the process holds: the @opentelemetry modules loaded, the global
 * registrations of OpenTelemetry's API, and whether require or the module loader was hooked.
 */
const Module = require('node:module');
const { renameSync, writeFileSync } = require('node:fs');

const originalRequire = Module.prototype.require;
const originalLoad = Module._load;
const originalCompile = Module.prototype._compile;

process.on('SIGUSR2', () => {
  const registered = globalThis[Symbol.for('opentelemetry.js.api.1')];
  // Written beside, then renamed: the test reads the file as soon as it exists.
  const partial = `${process.env.TELEMETRY_PROBE_FILE}.partial`;
  writeFileSync(
    partial,
    JSON.stringify({
      modules: Object.keys(require.cache).filter((file) => file.includes('/@opentelemetry/')),
      globals: registered ? Object.keys(registered).filter((key) => key !== 'version') : [],
      requireHooked: Module.prototype.require !== originalRequire || Module._load !== originalLoad || Module.prototype._compile !== originalCompile,
    }),
  );
  renameSync(partial, process.env.TELEMETRY_PROBE_FILE);
});
