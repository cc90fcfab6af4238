// One-shot mode: read a whole log (file or stdin), print the exposition the exporter would serve, exit.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createRegistry } from './metrics.js';
import { LineProcessor } from './processor.js';
import type { LogType } from './reasons.js';

export async function runOnce(opts: { type: LogType; input: Readable; maxLineBytes: number }): Promise<string> {
  const processor = new LineProcessor(opts.type);
  const splitter = processor.splitter(opts.maxLineBytes);
  for await (const chunk of opts.input) splitter.push(chunk as Buffer);
  splitter.end();
  return createRegistry(processor.state).metrics();
}

export function openInput(file: string): Readable {
  return file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 256 * 1024 });
}
