// The pod security policy the chart's tests hold every pod to: nothing privileged and no host namespaces; only a
// container named `vpn` may add a capability, and only NET_ADMIN; every other container drops all capabilities and
// runs as non-root on a read-only root filesystem without privilege escalation.
import type { Manifest } from './render.js';

export function podPolicyViolations(where: string, spec: Manifest): string[] {
  const out: string[] = [];
  if (spec.hostNetwork) out.push(`${where}: hostNetwork`);
  if (spec.hostPID) out.push(`${where}: hostPID`);
  if (spec.hostIPC) out.push(`${where}: hostIPC`);
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Manifest[]) {
    const at = `${where} container ${c.name}`;
    const csc: Manifest = c.securityContext ?? {};
    const sc: Manifest = { ...(spec.securityContext ?? {}), ...csc };
    if (csc.privileged) out.push(`${at}: privileged`);
    const added: string[] = csc.capabilities?.add ?? [];
    if (c.name === 'vpn') {
      const extra = added.filter((cap) => cap !== 'NET_ADMIN');
      if (extra.length) out.push(`${at}: adds ${extra.join(', ')} (only NET_ADMIN is allowed)`);
      continue;
    }
    if (added.length) out.push(`${at}: adds ${added.join(', ')}`);
    if (!(csc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at}: does not drop ALL capabilities`);
    if (sc.runAsNonRoot !== true) out.push(`${at}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) out.push(`${at}: runAsUser 0`);
    if (csc.readOnlyRootFilesystem !== true) out.push(`${at}: root filesystem is writable`);
    if (csc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation is not false`);
  }
  return out;
}
