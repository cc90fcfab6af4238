// Line → effect, by the pattern table. Pure; compiled once per log type.
import { PATTERNS, type Pattern } from './patterns.js';
import type { LogType } from './reasons.js';

export interface Classifier {
  type: LogType;
  /** The first pattern of this log type that matches the line, or undefined (an unmatched line). */
  classify(line: string): Pattern | undefined;
}

export function compilePattern(p: Pattern): RegExp {
  return new RegExp(p.regex);
}

export function createClassifier(type: LogType, patterns: readonly Pattern[] = PATTERNS): Classifier {
  const table = patterns.filter((p) => p.type === type).map((p) => ({ pattern: p, re: compilePattern(p) }));
  return {
    type,
    classify(line: string): Pattern | undefined {
      for (const entry of table) if (entry.re.test(line)) return entry.pattern;
      return undefined;
    },
  };
}
