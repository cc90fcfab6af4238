// Pure parts of lab/vault: policy parsing and Vault's path-matching priority
// (https://developer.hashicorp.com/vault/docs/concepts/policies#priority-matching), and duration parsing
// (https://developer.hashicorp.com/vault/docs/concepts/duration-format).
import { describe, expect, it } from 'vitest';
import { Acl, parsePolicy } from '../../lab/vault/policy.js';
import { formatGoDuration, parseDuration } from '../../lab/vault/durations.js';

const acl = (hcl: string): Acl => new Acl([parsePolicy(hcl)]);

describe('policy matching', () => {
  it.each([
    // [pattern, path, matches]
    ['secret/data/a', 'secret/data/a', true],
    ['secret/data/a', 'secret/data/a/b', false],
    ['secret/data/a/*', 'secret/data/a/b/c', true],
    ['secret/data/a/*', 'secret/data/a', false],
    ['secret/data/a*', 'secret/data/abc/d', true],
    ['secret/+/a', 'secret/x/a', true],
    ['secret/+/a', 'secret/x/y/a', false],
    ['secret/+/a/*', 'secret/x/a/b', true],
  ])('"%s" on %s → %s', (pattern, path, expected) => {
    expect(acl(`path "${pattern}" { capabilities = ["read"] }`).allows(path, 'read')).toBe(expected);
  });

  it.each([
    // The rules in order: first wildcard later wins; no trailing * wins; fewer + wins; longer wins; larger wins.
    ['secret/data/a/b/*', 'secret/data/a/*', 'secret/data/a/b/c'],
    ['secret/data/a/+', 'secret/data/a/*', 'secret/data/a/b'],
    ['secret/+/a/*', 'secret/+/+/*', 'secret/x/a/y'],
    ['secret/data/ab*', 'secret/data/a*', 'secret/data/abc'],
  ])('"%s" outranks "%s" on %s', (winner, loser, path) => {
    const a = new Acl([
      parsePolicy(`path "${winner}" { capabilities = ["list"] }`),
      parsePolicy(`path "${loser}" { capabilities = ["read"] }`),
    ]);
    expect([...a.capabilities(path)]).toEqual(['list']);
  });

  it('an exact path beats every pattern; capabilities of the same pattern from two policies merge; deny wins', () => {
    const a = new Acl([
      parsePolicy('path "s/x" { capabilities = ["read"] }\npath "s/*" { capabilities = ["list"] }'),
      parsePolicy('path "s/x" { capabilities = ["update"] }'),
      parsePolicy('path "s/y" { capabilities = ["read", "deny"] }'),
    ]);
    expect([...a.capabilities('s/x')].sort()).toEqual(['read', 'update']);
    expect(a.allows('s/y', 'read')).toBe(false);
  });

  it('reads the JSON form too', () => {
    const rules = parsePolicy(JSON.stringify({ path: { 'secret/data/*': { capabilities: ['read'] } } }));
    expect(new Acl([rules]).allows('secret/data/x', 'read')).toBe(true);
  });

  it.each([
    ['path "x" { capabilities = ["fly"] }', /invalid capability "fly"/],
    ['path "x/*/y" { capabilities = ["read"] }', /only allowed at the end/],
    ['path "x" { allowed_parameters = { } }', /not supported by lab\/vault/],
    ['key "x" { }', /unsupported top-level key "key"/],
    ['path "x" { capabilities = ["read"]', /expected "}"|missing "}"/],
  ])('refuses %s', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(message);
  });
});

describe('durations', () => {
  it.each([
    [3600, 3600],
    ['3600', 3600],
    ['1h', 3600],
    ['1h30m', 5400],
    ['90s', 90],
    ['768h', 2764800],
    ['1.5h', 5400],
    ['1d', 86400],
  ])('%s → %i s', (input, seconds) => {
    expect(parseDuration(input, 'ttl')).toBe(seconds);
  });

  it.each(['abc', '1x', '-5', 'h1'])('refuses %s naming the field', (input) => {
    expect(() => parseDuration(input, 'token_ttl')).toThrow(/token_ttl/);
  });

  it.each([
    [0, '0s'],
    [45, '45s'],
    [125, '2m5s'],
    [3600, '1h0m0s'],
    [90061, '25h1m1s'],
  ])('Go form of %i s is %s', (seconds, text) => {
    expect(formatGoDuration(seconds)).toBe(text);
  });
});
