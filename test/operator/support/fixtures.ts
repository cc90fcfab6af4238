// TorChain objects and pool configs for operator tests.
import { API_VERSION, KIND, type TorChain, type TorChainSpec } from '../../../operator/src/api/torchain.js';

export function torchain(
  name: string,
  spec: Partial<TorChainSpec> & { numberNode: number },
  meta: Partial<TorChain['metadata']> = {},
): TorChain {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name,
      namespace: 'vpn',
      uid: `uid-${name}`,
      resourceVersion: '10',
      generation: 1,
      ...meta,
    },
    spec: { typeNode: 'openvpn', nameTorChain: 'alpha', switchServer: 0, inInterface: 'net1', ...spec },
  };
}

export function ovpnConfig(address: string, port = 1194, proto = 'udp'): string {
  return ['client', 'dev tun', `proto ${proto}`, `remote ${address} ${String(port)}`, 'nobind', 'ping 2', ''].join(
    '\n',
  );
}

export function wgConfig(endpoint: string): string {
  return [
    '[Interface]',
    'PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=',
    'Address = 10.99.0.2/32',
    '',
    '[Peer]',
    'PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
    `Endpoint = ${endpoint}`,
    'AllowedIPs = 0.0.0.0/0',
    '',
  ].join('\n');
}
