// `tsx lab/netns/measure-overhead.ts`: measures each VPN layer's overhead with the real daemons (as root) and
// prints it next to what operator/src/core/mtu.ts assumes. docs/dataplane.md records the figures.
import { layerOverhead } from '../../operator/src/core/mtu.js';
import { ALL_OVERHEAD_CASES, measureOverhead } from './overhead.js';

console.log('type       transport family  inner  outer  measured  mtu.ts');
let mismatch = false;
for (const c of ALL_OVERHEAD_CASES) {
  const r = await measureOverhead(c);
  const assumed = layerOverhead(c);
  mismatch ||= assumed !== r.overhead;
  console.log(
    `${c.type.padEnd(10)} ${c.transport.padEnd(9)} ${c.family.padEnd(7)} ${String(r.innerLength).padStart(5)}  ${String(r.outerLength).padStart(5)}  ${String(r.overhead).padStart(8)}  ${String(assumed).padStart(6)}`,
  );
}
if (mismatch) {
  console.error(
    'measured overheads differ from operator/src/core/mtu.ts: update the constants there and docs/dataplane.md',
  );
  process.exit(1);
}
