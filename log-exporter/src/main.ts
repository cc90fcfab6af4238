// Entry point: `tsx log-exporter/src/main.ts` (npm run log-exporter). Flags and environment: log-exporter/README.md.
import { ConfigError, USAGE, parseConfig } from './config.js';
import { onceInput, runOnce } from './once.js';

// Not the logger's errorText: one-shot mode never loads the logger (pino and its streams; docs/performance.md).
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`log-exporter: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.once) {
    const input = onceInput(config.file as string);
    try {
      process.stdout.write(await runOnce({ type: config.type, input, maxLineBytes: config.maxLineBytes }));
    } catch (err) {
      process.stderr.write(
        `log-exporter: cannot read ${config.file === '-' ? 'stdin' : config.file}: ${errorText(err)}\n`,
      );
      return 1;
    }
    return 0;
  }
  const { serve } = await import('./serve.js');
  const code = await serve(config);
  // stdin and the HTTP keep-alive sockets would keep the process alive after a clean stop.
  process.exit(code);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`log-exporter: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
