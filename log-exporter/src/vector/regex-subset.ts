// The regex dialect the pattern table is written in: the part of JavaScript RegExp syntax that Rust's regex crate
// (used by Vector's VRL) and RE2 (mtail, Go) read the same way, so one table drives the exporter, Vector and mtail.
// Deliberately small: ASCII literals; escapes of punctuation only (no \d \w \s: Rust's are Unicode-aware, JS's are
// not); bracket classes without nesting or set operations; quantifiers * + ? {n} {n,} {n,m}; (?:...) groups; | ^ $.
// No quotes either, so a pattern fits a VRL raw string r'...' as it is.

const ESCAPABLE = new Set('\\.+*?()|[]{}^$-/'.split(''));
const CLASS_ESCAPABLE = new Set('\\]-[^'.split(''));

/** Undefined when `source` is inside the common subset, else what is outside it. */
export function syntaxOutsideCommonSubset(source: string): string | undefined {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return `non-ASCII or control character at ${i}`;
    if (c === "'") return `quote at ${i} (it would end the VRL raw string)`;
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined || !ESCAPABLE.has(n)) return `escape \\${n ?? ''} at ${i} (only punctuation may be escaped)`;
      i++;
      continue;
    }
    if (c === '(') {
      if (source.startsWith('(?:', i)) {
        depth++;
        i += 2;
        continue;
      }
      if (/^\(\?<?[=!]/.test(source.slice(i))) return `lookaround at ${i}`;
      return `capturing group at ${i} (use (?:...); named groups are not shared either)`;
    }
    if (c === ')') {
      if (depth-- === 0) return `unbalanced ) at ${i}`;
      continue;
    }
    if (c === '{') {
      const m = /^\{[0-9]+(?:,[0-9]*)?\}/.exec(source.slice(i));
      if (!m) return `{ at ${i} is not a {n}, {n,} or {n,m} quantifier`;
      i += m[0].length - 1;
      continue;
    }
    if (c === '}' || c === ']') return `unescaped ${c} at ${i}`;
    if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') return `empty or ambiguous class at ${i}`;
      let closed = false;
      for (; j < source.length; j++) {
        const d = source[j] as string;
        const dc = d.charCodeAt(0);
        if (dc < 0x20 || dc > 0x7e) return `non-ASCII or control character at ${j}`;
        if (d === "'") return `quote at ${j} (it would end the VRL raw string)`;
        if (d === '\\') {
          const n = source[j + 1];
          if (n === undefined || !CLASS_ESCAPABLE.has(n)) return `escape \\${n ?? ''} in class at ${j}`;
          j++;
          continue;
        }
        if (d === '[') return `nested class at ${j} ([ inside a class starts a nested class in Rust)`;
        if ((d === '&' || d === '-' || d === '~') && source[j + 1] === d) return `class set operation ${d}${d} at ${j}`;
        if (d === ']') {
          closed = true;
          break;
        }
      }
      if (!closed) return `unterminated class at ${i}`;
      i = j;
    }
  }
  if (depth !== 0) return 'unbalanced (';
  return undefined;
}
