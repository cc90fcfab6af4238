// docs/vault.md, executed: its policy (the HCL block) and its Kubernetes auth role (the `vault write
// auth/kubernetes/role/...` command) are loaded into lab/vault as written, the operator's ServiceAccount comes from the
// chart rendered with release `torchain`, and its token is made with `kubectl create token` against lab/kube. The
// operator must then read and list its pools and nothing else.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKube } from '../../lab/kube/server.js';
import { startVault } from '../../lab/vault/server.js';
import { HELM, KUBECTL, REPO_ROOT } from '../../scripts/paths.js';
import { skipUnless } from '../support/env.js';
import { one, render, renderText } from './render.js';

const run = promisify(execFile);
const doc = readFileSync(join(REPO_ROOT, 'docs', 'vault.md'), 'utf8');

/** The fenced code blocks of a Markdown text with the given info string. */
function codeBlocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The `key=value` arguments of the first shell command in the doc that starts with `prefix` (continuations joined). */
function commandArgs(prefix: string): { path: string; args: Record<string, string> } {
  for (const block of codeBlocks(doc, 'sh')) {
    const joined = block.replace(/\\\n\s*/g, ' ');
    const line = joined.split('\n').find((l) => l.trim().startsWith(prefix));
    if (!line) continue;
    const words = line.trim().split(/\s+/);
    const at = words.findIndex((w) => w.includes('/') && !w.includes('='));
    const args = words.slice(at + 1).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]);
    return { path: words[at]!, args: Object.fromEntries(args) as Record<string, string> };
  }
  throw new Error(`docs/vault.md has no command starting with "${prefix}"`);
}

describe.skipIf(skipUnless({ binaries: [HELM, KUBECTL] }))('docs/vault.md against lab/vault and lab/kube', () => {
  let kube: Awaited<ReturnType<typeof startKube>>;
  let vault: Awaited<ReturnType<typeof startVault>>;
  let dir = '';
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, ...args])).stdout;
  const vaultCall = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${vault.url}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  };

  beforeAll(async () => {
    kube = await startKube();
    dir = mkdtempSync(join(tmpdir(), 'torchain-vault-doc-'));
    // Vault's own ServiceAccount, whose token Vault presents to TokenReview (the Vault chart's authDelegator).
    await kubectl('create', 'namespace', 'vault');
    await kubectl('create', 'serviceaccount', 'vault', '-n', 'vault');
    // what the Vault chart's server.authDelegator.enabled creates: TokenReview needs system:auth-delegator
    await kubectl(
      'create',
      'clusterrolebinding',
      'vault-server-binding',
      '--clusterrole=system:auth-delegator',
      '--serviceaccount=vault:vault',
    );
    const reviewer = (await kubectl('create', 'token', 'vault', '-n', 'vault')).trim();
    vault = await startVault({ kubeUrl: kube.url, kubeToken: reviewer, kubeCaCert: kube.caPem });
  });

  afterAll(async () => {
    await vault?.close();
    await kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the documented policy and role give the operator read and list on its pools, and nothing else', async () => {
    const root = vault.rootToken;
    const [policy] = codeBlocks(doc, 'hcl');
    expect(policy).toBeDefined();
    expect((await vaultCall(root, 'PUT', 'sys/policies/acl/torchain-operator', { policy })).status).toBe(204);

    const role = commandArgs('vault write auth/kubernetes/role/');
    const list = (v: string) => v.split(',');
    const created = await vaultCall(root, 'POST', role.path, {
      bound_service_account_names: list(role.args.bound_service_account_names!),
      bound_service_account_namespaces: list(role.args.bound_service_account_namespaces!),
      token_policies: list(role.args.policies!),
      token_ttl: role.args.token_ttl,
      token_max_ttl: role.args.token_max_ttl,
    });
    expect(created.status).toBe(204);

    // The documented example entry, written as `vault kv put` does.
    const put = commandArgs('vault kv put secret/torchain/');
    const entryPath = put.path.replace(/^secret\//, '');
    await vaultCall(root, 'POST', `secret/data/${entryPath}`, {
      data: { config: 'client\n', endpoint: put.args.endpoint },
    });
    await vaultCall(root, 'POST', 'secret/data/some-other-app/db', { data: { password: 'not for torchain' } });

    // The operator's ServiceAccount, as the chart creates it for release `torchain` in the namespace the role binds.
    const namespace = role.args.bound_service_account_namespaces!;
    const objects = await render({ namespace, showOnly: 'templates/operator/serviceaccount.yaml' });
    const serviceAccount = one(objects, 'ServiceAccount', role.args.bound_service_account_names!, namespace);
    await kubectl('create', 'namespace', namespace);
    const saFile = join(dir, 'sa.yaml');
    writeFileSync(saFile, await renderText({ namespace, showOnly: 'templates/operator/serviceaccount.yaml' }));
    await kubectl('apply', '-f', saFile);
    const jwt = (await kubectl('create', 'token', serviceAccount.metadata.name, '-n', namespace)).trim();

    const login = await vaultCall('', 'POST', role.path.replace(/role\/(.+)$/, 'login'), {
      role: role.path.split('/').pop(),
      jwt,
    });
    expect(login.status).toBe(200);
    const token = login.body.auth.client_token as string;

    const pool = entryPath.slice(0, entryPath.lastIndexOf('/'));
    const listed = await vaultCall(token, 'LIST', `secret/metadata/${pool}`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual([entryPath.split('/').pop()]);
    const read = await vaultCall(token, 'GET', `secret/data/${entryPath}`);
    expect(read.status).toBe(200);
    expect(read.body.data.data.endpoint).toBe(put.args.endpoint);
    expect((await vaultCall(token, 'POST', 'auth/token/renew-self', {})).status).toBe(200);

    // Nothing else: other secrets, writes to its own pool, listing the mount.
    expect((await vaultCall(token, 'GET', 'secret/data/some-other-app/db')).status).toBe(403);
    expect((await vaultCall(token, 'POST', `secret/data/${entryPath}`, { data: { config: 'x' } })).status).toBe(403);
    expect((await vaultCall(token, 'LIST', 'secret/metadata/')).status).toBe(403);

    // A ServiceAccount of another name in the same namespace cannot log in with the role.
    await kubectl('create', 'serviceaccount', 'intruder', '-n', namespace);
    const other = (await kubectl('create', 'token', 'intruder', '-n', namespace)).trim();
    const refused = await vaultCall('', 'POST', role.path.replace(/role\/(.+)$/, 'login'), {
      role: role.path.split('/').pop(),
      jwt: other,
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
  });
});
