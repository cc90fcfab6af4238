// Line → effect, by the protocol's pattern table. Pure; compiled once per protocol.
import type { Protocol } from '../../common/contracts/protocols.js';
import { protocolModule } from './protocols/index.js';
import type { Pattern } from './protocols/pattern.js';

export interface Classifier {
  type: Protocol;
  /** The first pattern of this protocol that matches the line, or undefined (an unmatched line). */
  classify(line: string): Pattern | undefined;
}

export function compilePattern(p: Pattern): RegExp {
  return new RegExp(p.regex);
}

export function createClassifier(
  type: Protocol,
  patterns: readonly Pattern[] = protocolModule(type).patterns,
): Classifier {
  const regexes = patterns.map(compilePattern);
  // Most lines match nothing: one pass of the union answers those in a single regex call, and only a line that matches
  // some pattern is tried entry by entry (first match wins). Same verdicts, a fraction of the calls.
  const any = new RegExp(patterns.map((p) => `(?:${p.regex})`).join('|') || '(?!)');
  return {
    type,
    classify(line: string): Pattern | undefined {
      if (!any.test(line)) return undefined;
      // Indexed, not for-of: the image runs the bytecode interpreter, where the iterator protocol costs per entry.
      for (let i = 0; i < regexes.length; i++) if ((regexes[i] as RegExp).test(line)) return patterns[i];
      return undefined;
    },
  };
}
