// DNS queries with the real `dig` (bind9-dnsutils) from inside a namespace, reduced to what tests and scenarios
// judge: the response code, or why there was none, and the IPv4 answers.
import { run } from './exec.js';

export interface DnsResult {
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED…; `timeout` (no answer), `unreachable` (port or host unreachable). */
  status: string;
  /** A records of the answer section. */
  answers: string[];
  /** When the query was sent and when dig returned (ms since the epoch). */
  sentAt: number;
  doneAt: number;
}

/** One query for an A record of `name`, asked of `server` (port 53) from `netns`, one try. Never throws. */
export async function dnsQuery(
  netns: string,
  server: string,
  name: string,
  o: { tcp?: boolean; timeoutSeconds?: number; port?: number; uid?: number } = {},
): Promise<DnsResult> {
  const args = [
    `@${server}`,
    '-p',
    String(o.port ?? 53),
    name,
    'A',
    '+tries=1',
    `+timeout=${o.timeoutSeconds ?? 2}`,
    '+noall',
    '+comments',
    '+answer',
    ...(o.tcp ? ['+tcp'] : []),
  ];
  const argv =
    o.uid === undefined
      ? ['dig', ...args]
      : ['setpriv', `--reuid=${o.uid}`, `--regid=${o.uid}`, '--clear-groups', 'dig', ...args];
  const sentAt = Date.now();
  let out: string;
  try {
    out = (await run('ip', ['netns', 'exec', netns, ...argv], { timeoutMs: ((o.timeoutSeconds ?? 2) + 5) * 1000 }))
      .stdout;
  } catch (e) {
    out = (e as Error).message;
  }
  const doneAt = Date.now();
  const status = /status: ([A-Z]+)/.exec(out)?.[1];
  if (status) {
    const answers = [...out.matchAll(/^\S+\s+\d+\s+IN\s+A\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!);
    return { status, answers, sentAt, doneAt };
  }
  const why = /connection refused|unreachable/i.test(out) ? 'unreachable' : 'timeout';
  return { status: why, answers: [], sentAt, doneAt };
}
