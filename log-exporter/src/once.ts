// One-shot mode: read a whole log (file or stdin), print the exposition the exporter would serve, exit.
import { builtins } from './builtins.js';
import { createRegistry } from './metrics.js';
import { LineProcessor } from './processor.js';
import type { Protocol } from '../../common/contracts/protocols.js';

const CHUNK = 64 * 1024;

/** Input: an async iterable of chunks (stdin, a test stream) or a file path read with one fixed buffer. */
export type OnceInput = AsyncIterable<Buffer | Uint8Array | string> | { path: string };

export async function runOnce(opts: { type: Protocol; input: OnceInput; maxLineBytes: number }): Promise<string> {
  const processor = new LineProcessor(opts.type);
  const splitter = processor.splitter(opts.maxLineBytes);
  if ('path' in opts.input) {
    // Synchronous reads: one-shot mode does nothing else meanwhile (and fs.promises would load readline, the REPL
    // history and streams on node 24: builtins.ts).
    const { openSync, readSync, closeSync } = builtins.fs();
    const fd = openSync(opts.input.path, 'r');
    try {
      // One reused buffer: the splitter copies what it keeps, so memory stays flat whatever the file size.
      const buf = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const bytesRead = readSync(fd, buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        splitter.push(buf.subarray(0, bytesRead));
      }
    } finally {
      closeSync(fd);
    }
  } else {
    for await (const chunk of opts.input)
      splitter.push(
        typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
  }
  splitter.end();
  const text = await createRegistry(processor.state).metrics();
  return text.endsWith('\n') ? text : text + '\n';
}

export function onceInput(file: string): OnceInput {
  return file === '-' ? process.stdin : { path: file };
}
