// Labels shared by the exporter's scrape relabelings, the alert rules, Alertmanager's route and the operator.

/** Identity labels Prometheus attaches to every hop series from the pod's labels (PodMonitor relabelings). */
export const IDENTITY_LABELS = ['namespace', 'torchain', 'hop', 'type', 'server', 'pod'] as const;

/** The label that marks an alert as a request to switch a hop, and its value. */
export const ACTION_LABEL = 'torchain_action';
export const ACTION_SWITCH = 'switch';
export const SWITCH_LABEL = { [ACTION_LABEL]: ACTION_SWITCH } as const;
