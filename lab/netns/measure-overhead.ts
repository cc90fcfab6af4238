// `tsx lab/netns/measure-overhead.ts [--prefix P]`: measures each VPN layer's overhead with the real daemons (as
// root) and prints it next to what the protocol module (operator/src/protocols/<type>/) assumes. docs/dataplane.md
// records the figures.
import { protocolModule } from '../../operator/src/protocols/index.js';
import { ALL_OVERHEAD_CASES, measureOverhead } from './overhead.js';

const at = process.argv.indexOf('--prefix');
const prefix = at > 0 ? process.argv[at + 1] : undefined;
console.log('type         transport family  inner  outer  measured  module');
let mismatch = false;
for (const c of ALL_OVERHEAD_CASES) {
  const r = await measureOverhead(c, prefix ? { prefix } : {});
  const assumed = protocolModule(c.type).overhead(c.transport, c.family);
  mismatch ||= assumed !== r.overhead;
  console.log(
    `${c.type.padEnd(12)} ${c.transport.padEnd(9)} ${c.family.padEnd(7)} ${String(r.innerLength).padStart(5)}  ${String(r.outerLength).padStart(5)}  ${String(r.overhead).padStart(8)}  ${String(assumed).padStart(6)}`,
  );
}
if (mismatch) {
  console.error(
    'measured overheads differ from the protocol modules: update operator/src/protocols/<type>/ and docs/dataplane.md',
  );
  process.exit(1);
}
