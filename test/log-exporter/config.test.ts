import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseHostPort } from '../../log-exporter/src/config.js';

describe('config', () => {
  it('parses one-shot mode with a file or stdin', () => {
    expect(parseConfig(['--once', '--type', 'openvpn', 'x.log'], {})).toMatchObject({
      once: true,
      type: 'openvpn',
      source: 'file',
      file: 'x.log',
    });
    expect(parseConfig(['--once', '--type=wireguard', '-'], {})).toMatchObject({ source: 'stdin', type: 'wireguard' });
  });

  it('takes the environment, flags winning, with documented defaults', () => {
    const env = {
      TORCHAIN_TYPE: 'wireguard',
      POD_NAME: 'hop-1',
      POD_NAMESPACE: 'ns',
      TORCHAIN_PROBE_TARGET: '10.9.0.1:9',
    };
    const c = parseConfig(['--probe-interval-seconds', '3'], env);
    expect(c).toMatchObject({
      type: 'wireguard',
      source: 'kube',
      pod: 'hop-1',
      namespace: 'ns',
      container: 'vpn',
      listen: { host: '0.0.0.0', port: 9108 },
      probeTarget: { host: '10.9.0.1', port: 9 },
      probeIntervalSeconds: 3,
      probeTimeoutSeconds: 1.5,
      probeFailures: 2,
      maxLineBytes: 65536,
      kubeRefreshSeconds: 60,
      historySeconds: 30,
    });
    expect(parseConfig(['--type', 'openvpn', '--source', 'stdin'], env).type).toBe('openvpn');
  });

  it('refuses bad input with a message naming the flag or variable', () => {
    const bad: [string[], Record<string, string>, RegExp][] = [
      [[], {}, /TORCHAIN_TYPE \(--type\) is required/],
      [['--type', 'ipsec'], {}, /"ipsec" is not one of openvpn, wireguard, openconnect/],
      [['--type', 'openvpn'], {}, /POD_NAME and POD_NAMESPACE/],
      [['--type', 'openvpn', '--source', 'file'], {}, /--file PATH/],
      [['--type', 'openvpn', '--source', 'tcp'], {}, /--source.*"tcp"/],
      [['--type', 'openvpn', '--source', 'stdin', '--listen', 'nope'], {}, /--listen: "nope" is not HOST:PORT/],
      [['--type', 'openvpn', '--source', 'stdin'], { TORCHAIN_PROBE_FAILURES: '0' }, /TORCHAIN_PROBE_FAILURES/],
      [
        ['--type', 'openvpn', '--source', 'stdin', '--probe-timeout-seconds', '9'],
        {},
        /shorter than the probe interval/,
      ],
      [['--once', '--type', 'openvpn'], {}, /--once reads one FILE/],
      [['--type', 'openvpn', '--bogus'], {}, /unknown flag --bogus/],
      [['--type', 'openvpn', '--source', 'stdin', 'extra'], {}, /unexpected argument "extra"/],
    ];
    for (const [argv, env, msg] of bad) {
      expect(() => parseConfig(argv, env), argv.join(' ')).toThrow(ConfigError);
      expect(() => parseConfig(argv, env), argv.join(' ')).toThrow(msg);
    }
  });

  it('parses IPv4, IPv6 and host names with ports', () => {
    expect(parseHostPort('[fd00::1]:9108', 'x')).toEqual({ host: 'fd00::1', port: 9108 });
    expect(parseHostPort('exporter.local:0', 'x')).toEqual({ host: 'exporter.local', port: 0 });
    expect(() => parseHostPort('[nope]:1', 'x')).toThrow(ConfigError);
    expect(() => parseHostPort('fd00::1:9108', 'x')).toThrow(ConfigError);
    expect(() => parseHostPort('h:70000', 'x')).toThrow(ConfigError);
  });
});

describe('probe target', () => {
  const base = ['--type', 'wireguard', '--source', 'stdin'];
  it('defaults to auto for every protocol with a tunnel interface, and to none without one', () => {
    expect(parseConfig([...base, '--tun-interface', 'wg0'], {}).probeTarget).toBe('auto');
    // The older spelling still works.
    expect(parseConfig([...base, '--wg-interface', 'wg0'], {}).tunInterface).toBe('wg0');
    expect(parseConfig(base, {}).probeTarget).toBeUndefined();
    for (const type of ['openvpn', 'openconnect']) {
      const c = parseConfig(['--type', type, '--source', 'stdin'], { TORCHAIN_TUN_IF: 'tun0' });
      expect(c.probeTarget).toBe('auto');
      expect(c.tunInterface).toBe('tun0');
    }
  });
  it('takes an explicit target, auto or off', () => {
    expect(parseConfig([...base, '--probe-target', '10.8.0.1:443'], { TORCHAIN_TUN_IF: 'wg0' }).probeTarget).toEqual({
      host: '10.8.0.1',
      port: 443,
    });
    expect(parseConfig([...base, '--probe-target', 'off'], { TORCHAIN_TUN_IF: 'wg0' }).probeTarget).toBeUndefined();
    expect(() => parseConfig([...base, '--probe-target', 'auto'], {})).toThrow(/auto needs the tunnel interface/);
    expect(() => parseConfig([...base, '--probe-target', '10.8.0.1:0'], {})).toThrow(/port 0 cannot be probed/);
  });
});
