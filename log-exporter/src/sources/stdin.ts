// stdin source: the lab pipes the VPN client's output into the exporter.
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { LineProcessor } from '../processor.js';
import type { LineSource, SourceStatus } from './source.js';

export function startStdinSource(
  processor: LineProcessor,
  opts: { maxLineBytes: number; input?: Readable; log: Logger },
): LineSource {
  const input = opts.input ?? process.stdin;
  const splitter = processor.splitter(opts.maxLineBytes);
  const status: SourceStatus = { kind: 'stdin', state: 'running' };
  input.on('data', (chunk: Buffer) => splitter.push(chunk));
  input.on('end', () => {
    splitter.end();
    status.state = 'ended';
    status.detail = 'stdin closed (the VPN client exited?); metrics stay served';
    opts.log.warn('stdin closed; serving the last state', { source: 'stdin' });
  });
  input.on('error', (err) => {
    status.state = 'ended';
    status.detail = `stdin error: ${err.message}`;
    opts.log.error('cannot read stdin', { source: 'stdin', error: err.message });
  });
  return {
    status: () => ({ ...status }),
    async stop() {
      input.pause();
    },
  };
}
