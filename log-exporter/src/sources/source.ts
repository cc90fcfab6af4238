// What every line source reports about itself (for /healthz and logs).
export interface SourceStatus {
  kind: 'kube' | 'file' | 'stdin';
  /** running: reading or waiting for lines; retrying: a transient error, retried with backoff; ended: input closed. */
  state: 'starting' | 'running' | 'retrying' | 'ended';
  detail?: string;
}

export interface LineSource {
  status(): SourceStatus;
  stop(): Promise<void>;
}
