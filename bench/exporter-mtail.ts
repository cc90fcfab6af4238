// The mtail program equivalent to the exporter, rendered from the same pattern table (the protocol module's): first
// matching pattern of the protocol wins (nested `else`), each match applies its effects, and every line counts as matched or unmatched.
// Used by `npm run bench:exporter` (the peer) and by test/log-exporter/mtail.test.ts (RE2 reads the table alike).
import type { Protocol } from '../common/contracts/protocols.js';
import { protocolModule } from '../log-exporter/src/protocols/index.js';
import type { Pattern } from '../log-exporter/src/protocols/pattern.js';
import { syntaxOutsideCommonSubset } from '../log-exporter/src/vector/regex-subset.js';

/** mtail delimits regexes with /: escape the unescaped ones. */
function mtailRegex(p: Pattern): string {
  const outside = syntaxOutsideCommonSubset(p.regex);
  if (outside) throw new Error(`pattern ${p.id}: ${outside}`);
  let out = '';
  for (let i = 0; i < p.regex.length; i++) {
    const c = p.regex[i] as string;
    if (c === '\\') {
      out += c + (p.regex[i + 1] ?? '');
      i++;
    } else out += c === '/' ? '\\/' : c;
  }
  return out;
}

function effects(p: Pattern, indent: string): string[] {
  const out = [`${indent}torchain_log_exporter_lines_total["true"]++`];
  if (p.error) out.push(`${indent}torchain_vpn_connection_errors_total["${p.error}"]++`);
  if (p.restart) out.push(`${indent}torchain_vpn_restarts_total["${p.restart}"]++`);
  if (p.tunnel) out.push(`${indent}torchain_vpn_tunnel_up = ${p.tunnel === 'up' ? 1 : 0}`);
  return out;
}

export function renderMtailProgram(type: Protocol): string {
  const table = protocolModule(type).patterns;
  const lines = [
    `# Generated from log-exporter/src/protocols/${type}/patterns.ts; see bench/exporter-mtail.ts.`,
    // mtail refuses declarations no statement uses.
    ...(table.some((p) => p.error) ? ['counter torchain_vpn_connection_errors_total by reason'] : []),
    ...(table.some((p) => p.restart) ? ['counter torchain_vpn_restarts_total by reason'] : []),
    'counter torchain_log_exporter_lines_total by matched',
    ...(table.some((p) => p.tunnel) ? ['gauge torchain_vpn_tunnel_up'] : []),
    '',
  ];
  table.forEach((p, depth) => {
    const ind = '  '.repeat(depth);
    lines.push(`${ind}/${mtailRegex(p)}/ {`);
    lines.push(...effects(p, `${ind}  `));
    lines.push(`${ind}} else {`);
  });
  lines.push(`${'  '.repeat(table.length)}torchain_log_exporter_lines_total["false"]++`);
  for (let depth = table.length - 1; depth >= 0; depth--) lines.push(`${'  '.repeat(depth)}}`);
  return lines.join('\n') + '\n';
}
