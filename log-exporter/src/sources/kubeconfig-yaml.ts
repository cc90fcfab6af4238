// Reads a kubeconfig: JSON, or the block-style YAML kubectl and client libraries write (nested mappings, sequences of
// mappings, plain or quoted scalars, `{}`/`[]`). Anything else (anchors, tags, block or flow collections with content)
// is refused with the line it is on. Why not the `yaml` package: it would be two thirds of the sidecar's bundle, and a
// sidecar in a pod never reads a kubeconfig (it uses its ServiceAccount); this serves the lab and development.
// test/log-exporter/kube-api.test.ts holds it to the `yaml` package on kubeconfigs written by the real kubectl. Pure.

export class KubeconfigSyntaxError extends Error {}

interface Line {
  no: number;
  indent: number;
  text: string;
}

function fail(line: Line | undefined, what: string): never {
  throw new KubeconfigSyntaxError(
    `${line ? `line ${line.no}: ` : ''}${what} (only the block YAML kubectl writes is read; JSON works too)`,
  );
}

function scalar(text: string, line: Line): unknown {
  const t = text.trim();
  if (t === '' || t === '~' || t === 'null') return null;
  if (t === '{}') return {};
  if (t === '[]') return [];
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?[0-9]+(?:\.[0-9]+)?$/.test(t)) return Number(t);
  // A quoted scalar, then at most a comment.
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*(?:#.*)?$/.exec(t)?.[1];
  if (quoted?.startsWith('"')) {
    try {
      return JSON.parse(quoted) as string;
    } catch {
      fail(line, `unsupported double-quoted string ${quoted}`);
    }
  }
  if (quoted) return quoted.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('"') || t.startsWith("'")) fail(line, 'unterminated quoted string');
  if (/^[&*!|>{[%@`]/.test(t)) fail(line, `unsupported YAML syntax "${t.slice(0, 20)}"`);
  // A plain scalar ends at " #" (a comment).
  const hash = t.indexOf(' #');
  return hash === -1 ? t : t.slice(0, hash).trimEnd();
}

/** "key: value" or "key:" → [key, value text]; undefined when the line is not a mapping entry. */
function entry(text: string): [string, string] | undefined {
  const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:#'"{[\s][^:]*?)\s*:(?:\s+(.*))?$/.exec(text);
  if (!m) return undefined;
  const rawKey = m[1] as string;
  const key = rawKey.startsWith('"')
    ? (JSON.parse(rawKey) as string)
    : rawKey.startsWith("'")
      ? rawKey.slice(1, -1).replace(/''/g, "'")
      : rawKey;
  return [key, m[2] ?? ''];
}

export function parseKubeconfig(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as unknown;
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*(?:#.*)?$/.test(raw) || raw === '---') return;
    if (raw.includes('\t') && /^\s*\t/.test(raw)) fail({ no: i + 1, indent: 0, text: raw }, 'tab indentation');
    const indent = raw.length - raw.trimStart().length;
    lines.push({ no: i + 1, indent, text: raw.trim() });
  });
  let pos = 0;

  const isItem = (l: Line | undefined, indent: number) =>
    l !== undefined && l.indent === indent && (l.text === '-' || l.text.startsWith('- '));

  function block(indent: number): unknown {
    return isItem(lines[pos], indent) ? sequence(indent) : mapping(indent);
  }

  /** The value after "key:" with nothing on its line: a nested block, a sequence at the same indent, or null. */
  function nested(parentIndent: number): unknown {
    const next = lines[pos];
    if (next && next.indent > parentIndent) return block(next.indent);
    if (isItem(next, parentIndent)) return sequence(parentIndent);
    return null;
  }

  function mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (pos < lines.length) {
      const line = lines[pos] as Line;
      if (line.indent < indent || isItem(line, indent)) break;
      if (line.indent > indent) fail(line, 'unexpected indentation');
      const kv = entry(line.text);
      if (!kv) fail(line, `expected "key: value", got "${line.text.slice(0, 40)}"`);
      pos++;
      out[kv[0]] = kv[1] === '' ? nested(indent) : scalar(kv[1], line);
    }
    return out;
  }

  function sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    while (isItem(lines[pos], indent)) {
      const line = lines[pos] as Line;
      const rest = line.text === '-' ? '' : line.text.slice(2).trimStart();
      if (rest === '') {
        pos++;
        out.push(nested(indent));
      } else if (entry(rest)) {
        // "- key: value": a mapping whose entries sit where "key" starts.
        const at = indent + (line.text.length - rest.length);
        lines[pos] = { no: line.no, indent: at, text: rest };
        out.push(mapping(at));
      } else {
        pos++;
        out.push(scalar(rest, line));
      }
    }
    return out;
  }

  if (lines.length === 0) return null;
  const doc = block((lines[0] as Line).indent);
  if (pos < lines.length) fail(lines[pos], 'unexpected indentation');
  return doc;
}
