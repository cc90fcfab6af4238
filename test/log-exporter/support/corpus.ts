// The committed real-log corpus (log-exporter/fixtures, captured by log-exporter/corpus/capture.sh).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTOCOLS, type Protocol } from '../../../common/contracts/protocols.js';

// FIXTURES_DIR checks a fresh capture against the expectations before it replaces the committed one.
export const FIXTURES =
  process.env.FIXTURES_DIR ?? fileURLToPath(new URL('../../../log-exporter/fixtures', import.meta.url));

export interface Fixture {
  name: string;
  path: string;
  type: Protocol;
}

/** A fixture's protocol is its name's first word: openvpn-healthy.txt, openconnect-dead-peer.txt. */
function protocolOf(file: string): Protocol {
  const type = PROTOCOLS.find((p) => file.startsWith(`${p}-`));
  if (!type)
    throw new Error(`fixture ${file}: its name must start with a protocol (${PROTOCOLS.join(', ')}) and a dash`);
  return type;
}

export function fixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({
      name: f.slice(0, -'.txt'.length),
      path: join(FIXTURES, f),
      type: protocolOf(f),
    }));
}
