// `tsx lab/netns/cleanup.ts [--prefix P]`: removes every namespace, process, wireguard-go socket and key directory
// that topologies with prefix P (default tcd) left behind, e.g. after a crashed test run. Idempotent.
import { cleanupPrefix } from './cleanup-core.js';
import { DEFAULT_PREFIX } from './names.js';

function parseArgs(argv: string[]): string {
  let prefix = DEFAULT_PREFIX;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--prefix') prefix = argv[++i] ?? '';
    else if (a.startsWith('--prefix=')) prefix = a.slice('--prefix='.length);
    else if (a === '--help' || a === '-h') {
      console.log('usage: tsx lab/netns/cleanup.ts [--prefix P]   (P: a prefix like tcd, or prefix-id like tcd-a1b)');
      process.exit(0);
    } else {
      console.error(`cleanup: unknown argument ${a}; usage: tsx lab/netns/cleanup.ts [--prefix P]`);
      process.exit(2);
    }
  }
  return prefix;
}

try {
  await cleanupPrefix(parseArgs(process.argv.slice(2)));
} catch (e) {
  console.error(JSON.stringify({ level: 'error', msg: 'netns cleanup failed', error: (e as Error).message }));
  process.exit(1);
}
