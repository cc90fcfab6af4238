// The lab's VPN servers: one module per protocol (servers/<type>.ts) behind this interface. A module writes its
// server's config and key material, the client config a provider would hand out (what the lab puts into Vault), and
// says how to run the real daemon; servers/index.ts does the rest (firewall, NAT, start/stop) the same for all.
import type { Protocol } from '../../../common/contracts/protocols.js';
import type { Pki } from '../pki.js';

export type VpnType = Protocol;
export type Transport = 'udp' | 'tcp';
export type Family = 'ipv4' | 'ipv6';

export interface VpnServerSpec {
  /** File-name-safe name, e.g. hop2-s0; the client config is <name>.<ext>. */
  name: string;
  type: VpnType;
  /** Transport the client uses. OpenConnect: udp = DTLS with TLS fallback, tcp = TLS only. */
  transport: Transport;
  netns: string;
  /** Address the clients connect to (IPv4 or IPv6 literal), on `egressIf`. */
  address: string;
  port: number;
  /** Server tunnel interface; for WireGuard it must be unique machine-wide (wireguard-go UAPI socket). */
  tunnelIf: string;
  /** IPv4 tunnel subnet as a.b.c.0/24: the server takes .1, the client .2. */
  tunnelNet: string;
  /** Interface the server forwards decrypted traffic out of (masqueraded). */
  egressIf: string;
  /** When set, only these source addresses may reach the VPN port (the only way in is through the hop above). */
  allowFrom?: string[];
  /** Server-side tunnel MTU (default 1500). */
  tunMtu?: number;
  /**
   * The resolver the server hands its clients (OpenVPN `push "dhcp-option DNS"`, WireGuard's client `DNS =`,
   * ocserv `dns =`), as VPN providers do. Default: none pushed (WireGuard's client config names the server's tunnel
   * address, as wg-quick files usually do).
   */
  dns?: string;
}

export interface TunnelAddresses {
  server: string;
  client: string;
  mask: string;
}

/** What a protocol module made for one server. */
export interface ServerFiles {
  /** The client config a provider would ship (the pool entry's `config`). */
  clientConfig: string;
  /** Extension of the client config file (ovpn, conf). */
  clientExtension: string;
  /** The daemon's command line, run in the server's namespace. */
  command: { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** After the daemon started: configure it and wait until it serves (throws when it does not). */
  ready(ctx: ReadyContext): Promise<void>;
}

export interface ReadyContext {
  /** Lines the daemon printed since this start. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** A hop's client of this protocol, as the hop entrypoint runs it: what `clientUp` may look at. */
export interface ClientContext {
  netns: string;
  tunIf: string;
  /** The entrypoint's TORCHAIN_* environment. */
  env: Record<string, string>;
  /** Waits for a line of the client's output since it started. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Polls `check` until it is true; stops early, with the entrypoint's last words, when the entrypoint exits. */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void>;
}

export interface ServerModule {
  readonly type: VpnType;
  /**
   * Tunnel interface names are global on the host (wireguard-go's UAPI socket /var/run/wireguard/<if>.sock): the
   * lab then names them with its prefix and topology id.
   */
  readonly globalTunnelNames: boolean;
  /** Resolves once a hop's client of this protocol has its tunnel up. */
  clientUp(ctx: ClientContext, timeoutMs: number): Promise<void>;
  /** Default listening port. */
  readonly port: number;
  readonly transports: readonly Transport[];
  /** The L4 protocols the server listens on for `transport` (its firewall admits these from `allowFrom`). */
  protos(transport: Transport): Transport[];
  /** Needs the lab PKI (certificates). */
  readonly needsPki: boolean;
  /** Before the daemon starts (each time): remove what a killed daemon left behind. */
  beforeStart?(spec: VpnServerSpec): Promise<void>;
  create(spec: VpnServerSpec, dir: string, net: TunnelAddresses, pki: Pki | undefined): Promise<ServerFiles>;
}
