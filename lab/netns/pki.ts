// A throw-away PKI for the lab's OpenVPN servers, generated on the spot with openssl (EC P-256: fast to make).
// One CA per topology; a server certificate (serverAuth, so clients can use `remote-cert-tls server`) and a client
// certificate per server entry.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';

export interface CertPair {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  caCert: string;
  issue(name: string, usage: 'server' | 'client'): Promise<CertPair>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Creates a CA in `dir` (mode 0700) and returns a function that issues certificates from it. */
export async function createPki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const caCrt = join(dir, 'ca.crt');
  await run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    caKey,
    '-out',
    caCrt,
    '-days',
    '30',
    '-subj',
    '/CN=torchain-lab-ca',
  ]);
  const caCert = await readFile(caCrt, 'utf8');
  let serial = 1;
  return {
    dir,
    caCert,
    async issue(name, usage) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name))
        throw new Error(`PKI: certificate name ${JSON.stringify(name)} must be [A-Za-z0-9_.-]+`);
      const base = join(dir, name);
      const ext = `${base}.ext`;
      await writeFile(
        ext,
        [
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature,keyAgreement',
          `extendedKeyUsage=${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        ].join('\n') + '\n',
      );
      await run('openssl', ['req', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        caCrt,
        '-CAkey',
        caKey,
        '-set_serial',
        String(serial++),
        '-days',
        '30',
        '-extfile',
        ext,
        '-out',
        `${base}.crt`,
      ]);
      return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') };
    },
  };
}
