// ACL policies as Vault evaluates them (https://developer.hashicorp.com/vault/docs/concepts/policies):
// `path "<pattern>" { capabilities = [...] }` in HCL or the equivalent JSON; `*` at the end is a prefix glob, a `+`
// segment matches one path segment; an exact path beats any pattern, else the highest-priority pattern wins (the
// five "priority matching" rules); rules for the same pattern from several policies are merged; `deny` wins.

export const CAPABILITIES = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface PathRule {
  pattern: string;
  capabilities: Set<Capability>;
}

type Token = { kind: 'string' | 'ident' | 'punct'; text: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) i++;
    else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 2;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        text += src[j] ?? '';
        j++;
      }
      if (j >= src.length) throw new Error('unterminated string');
      out.push({ kind: 'string', text });
      i = j + 1;
    } else if ('{}[]=,:'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_-]/.test(src[j] as string)) j++;
      out.push({ kind: 'ident', text: src.slice(i, j) });
      i = j;
    } else throw new Error(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

function checkCapabilities(pattern: string, caps: unknown): Set<Capability> {
  if (!Array.isArray(caps)) throw new Error(`path "${pattern}": capabilities must be a list`);
  const set = new Set<Capability>();
  for (const cap of caps) {
    if (!(CAPABILITIES as readonly string[]).includes(cap as string)) {
      throw new Error(`path "${pattern}": invalid capability "${String(cap)}"`);
    }
    set.add(cap as Capability);
  }
  return set;
}

function checkPattern(pattern: string): void {
  const star = pattern.indexOf('*');
  if (star >= 0 && star !== pattern.length - 1) throw new Error(`path "${pattern}": "*" is only allowed at the end`);
}

function parseHcl(src: string): PathRule[] {
  const toks = tokenize(src);
  let i = 0;
  const expect = (text: string): void => {
    const t = toks[i++];
    if (!t || t.text !== text) throw new Error(`expected "${text}" but found ${t ? `"${t.text}"` : 'end of input'}`);
  };
  const rules: PathRule[] = [];
  while (i < toks.length) {
    const kw = toks[i++] as Token;
    if (kw.kind !== 'ident' || kw.text !== 'path') throw new Error(`unsupported top-level key "${kw.text}"`);
    const name = toks[i++];
    if (!name || name.kind !== 'string') throw new Error('path needs a quoted pattern');
    checkPattern(name.text);
    expect('{');
    let caps: Set<Capability> | undefined;
    while (toks[i]?.text !== '}') {
      const key = toks[i++];
      if (!key) throw new Error(`path "${name.text}": missing "}"`);
      if (key.text !== 'capabilities') {
        // Parameter constraints and wrapping TTLs change what a rule allows: refuse them rather than ignore them.
        throw new Error(`path "${name.text}": "${key.text}" is not supported by lab/vault (only capabilities)`);
      }
      expect('=');
      expect('[');
      const list: string[] = [];
      while (toks[i]?.text !== ']') {
        const v = toks[i++];
        if (!v || v.kind !== 'string') throw new Error(`path "${name.text}": capabilities must be quoted strings`);
        list.push(v.text);
        if (toks[i]?.text === ',') i++;
      }
      expect(']');
      caps = checkCapabilities(name.text, list);
    }
    expect('}');
    rules.push({ pattern: name.text, capabilities: caps ?? new Set() });
  }
  return rules;
}

function parseJson(doc: unknown): PathRule[] {
  const paths = (doc as { path?: unknown }).path;
  if (typeof paths !== 'object' || paths === null) throw new Error('JSON policy needs a "path" object');
  for (const key of Object.keys(doc as object)) {
    if (key !== 'path') throw new Error(`unsupported top-level key "${key}"`);
  }
  return Object.entries(paths as Record<string, { capabilities?: unknown }>).map(([pattern, body]) => {
    checkPattern(pattern);
    const keys = Object.keys(body ?? {});
    const extra = keys.find((k) => k !== 'capabilities');
    if (extra) throw new Error(`path "${pattern}": "${extra}" is not supported by lab/vault (only capabilities)`);
    return { pattern, capabilities: checkCapabilities(pattern, body?.capabilities ?? []) };
  });
}

/** Parses an HCL or JSON policy document; throws an Error whose message says what is wrong. */
export function parsePolicy(text: string): PathRule[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return parseJson(JSON.parse(trimmed));
  return parseHcl(text);
}

function matches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  const psegs = body.split('/');
  const segs = path.split('/');
  if (!glob && psegs.length !== segs.length) return false;
  if (glob && segs.length < psegs.length) return false;
  for (let k = 0; k < psegs.length; k++) {
    const p = psegs[k] as string;
    const s = segs[k] as string;
    const last = k === psegs.length - 1;
    if (p === '+') continue;
    if (glob && last) {
      if (!s.startsWith(p)) return false;
    } else if (p !== s) return false;
  }
  return true;
}

/** Vault's priority rules: true when a is of lower priority than b. */
function lowerPriority(a: string, b: string): boolean {
  const firstWild = (p: string): number => {
    const idx = [p.indexOf('+'), p.indexOf('*')].filter((x) => x >= 0);
    return idx.length ? Math.min(...idx) : p.length;
  };
  if (firstWild(a) !== firstWild(b)) return firstWild(a) < firstWild(b);
  const aGlob = a.endsWith('*');
  const bGlob = b.endsWith('*');
  if (aGlob !== bGlob) return aGlob;
  const plus = (p: string): number => p.split('/').filter((s) => s === '+').length;
  if (plus(a) !== plus(b)) return plus(a) > plus(b);
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

export class Acl {
  private readonly rules = new Map<string, Set<Capability>>();
  readonly root: boolean;

  constructor(policies: PathRule[][], root = false) {
    this.root = root;
    for (const rules of policies) {
      for (const r of rules) {
        const merged = this.rules.get(r.pattern) ?? new Set<Capability>();
        for (const c of r.capabilities) merged.add(c);
        this.rules.set(r.pattern, merged);
      }
    }
  }

  /** The capabilities this ACL grants on path ("root" grants everything). */
  capabilities(path: string): Set<Capability> {
    if (this.root) return new Set(CAPABILITIES.filter((c) => c !== 'deny'));
    let best: string | undefined;
    for (const pattern of this.rules.keys()) {
      if (!matches(pattern, path)) continue;
      const exact = !pattern.includes('*') && !pattern.includes('+');
      if (exact) {
        best = pattern;
        break;
      }
      if (best === undefined || lowerPriority(best, pattern)) best = pattern;
    }
    const caps = best === undefined ? new Set<Capability>() : new Set(this.rules.get(best));
    return caps.has('deny') ? new Set(['deny']) : caps;
  }

  allows(path: string, cap: Capability): boolean {
    const caps = this.capabilities(path);
    return !caps.has('deny') && caps.has(cap);
  }
}

/** Vault's built-in "default" policy, the part that concerns the endpoints lab/vault serves. */
export const DEFAULT_POLICY = `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
`;
