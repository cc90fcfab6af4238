// The committed real-log corpus (log-exporter/fixtures, captured by log-exporter/corpus/capture.sh).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogType } from '../../../log-exporter/src/reasons.js';

// TCX_FIXTURES_DIR checks a fresh capture against the expectations before it replaces the committed one.
export const FIXTURES =
  process.env.TCX_FIXTURES_DIR ?? fileURLToPath(new URL('../../../log-exporter/fixtures', import.meta.url));

export interface Fixture {
  name: string;
  path: string;
  type: LogType;
}

export function fixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({
      name: f.slice(0, -'.txt'.length),
      path: join(FIXTURES, f),
      type: f.startsWith('wireguard-') ? 'wireguard' : 'openvpn',
    }));
}
