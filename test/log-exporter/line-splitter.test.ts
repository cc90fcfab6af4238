import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../log-exporter/src/line-splitter.js';

function split(chunks: (string | Buffer)[], max = 64) {
  const out: (string | null)[] = [];
  const s = new LineSplitter(max, { line: (l) => out.push(l), oversized: () => out.push(null) });
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return out;
}

describe('LineSplitter', () => {
  it('splits on \\n, drops a trailing \\r, keeps empty lines and a last line without newline', () => {
    expect(split(['a\r\nb\n\nc'])).toEqual(['a', 'b', '', 'c']);
  });

  it('joins lines split across chunks, even byte by byte', () => {
    const text = 'first line\nsecond\r\nthird\n';
    expect(split([...Buffer.from(text)].map((b) => Buffer.from([b])))).toEqual(['first line', 'second', 'third']);
  });

  it('decodes invalid UTF-8 as U+FFFD and keeps a multi-byte character split across chunks intact', () => {
    const euro = Buffer.from('€');
    expect(
      split([
        Buffer.from([0x61, 0xff, 0xfe, 0x0a]),
        Buffer.concat([Buffer.from('x'), euro.subarray(0, 1)]),
        euro.subarray(1),
        '\n',
      ]),
    ).toEqual(['a\ufffd\ufffd', 'x€']);
  });

  it('drops an oversized line without keeping it, whether it comes in one chunk or many, and resumes after it', () => {
    const big = 'x'.repeat(200);
    expect(split([`ok\n${big}\nafter\n`])).toEqual(['ok', null, 'after']);
    expect(split(['ok\n', ...Array.from({ length: 10 }, () => 'y'.repeat(30)), '\nafter\n'])).toEqual([
      'ok',
      null,
      'after',
    ]);
    expect(split(['z'.repeat(100)])).toEqual([null]);
  });

  it('accepts a line of exactly the limit', () => {
    expect(split(['a'.repeat(64) + '\n'])).toEqual(['a'.repeat(64)]);
    expect(split(['a'.repeat(60), 'a'.repeat(4), '\n'])).toEqual(['a'.repeat(64)]);
    expect(split(['a'.repeat(60), 'a'.repeat(5), '\n'])).toEqual([null]);
  });
});
