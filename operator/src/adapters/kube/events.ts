// Kubernetes Events on TorChains (switches, pool exhaustion, Vault errors), best effort: a failed Event is logged and
// never fails a reconcile. The same reason and message for one object is recorded at most once a minute.
import type { CoreV1Event } from '@kubernetes/client-node';
import { API_VERSION, KIND, type TorChain } from '../../api/torchain.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../../../common/log.js';

export interface EventSink {
  createEvent(body: CoreV1Event): Promise<void>;
}

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly sink: EventSink,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly dedupeMs = 60_000,
  ) {}

  async record(tc: TorChain, type: EventType, reason: string, message: string): Promise<void> {
    const ns = tc.metadata.namespace ?? '';
    const name = tc.metadata.name ?? '';
    const key = `${ns}/${name}/${reason}/${message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.dedupeMs) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000)
      for (const [k, t] of this.recent) if (now - t >= this.dedupeMs) this.recent.delete(k);
    const time = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await this.sink.createEvent({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${name}.`, namespace: ns },
        involvedObject: {
          apiVersion: API_VERSION,
          kind: KIND,
          name,
          namespace: ns,
          uid: tc.metadata.uid,
          resourceVersion: tc.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: 'torchain-operator' },
        reportingComponent: 'torchain.dev/operator',
        reportingInstance: this.instance,
        firstTimestamp: time as never,
        lastTimestamp: time as never,
        count: 1,
      });
    } catch (err) {
      this.log.warn('could not record an Event', { torchain: `${ns}/${name}`, reason, error: errorMessage(err) });
    }
  }
}
