// Alertmanager routing of switch alerts to the operator's webhook, in two forms from one source: a plain
// alertmanager.yml (the lab, clusters without the Prometheus Operator) and an AlertmanagerConfig spec (the chart).
import { stringify } from 'yaml';
import { validateParams, type AlertingParams } from './params.js';
import { SWITCH_LABEL } from '../../common/contracts/labels.js';
import { webhookMaxAlerts } from './webhook-size.js';
import { RECEIVER } from './receiver.js';

export { RECEIVER };

/** Alerts of one chain go out together, so the operator sees every failing hop and picks the topmost one. */
export const GROUP_BY = ['namespace', 'torchain'] as const;
export const WEBHOOK_PATH = '/v1/alertmanager';

export interface WebhookTarget {
  /** The operator's `POST /v1/alertmanager` URL. */
  url: string;
  /** File holding the bearer token, readable by Alertmanager. */
  credentialsFile: string;
}

/**
 * Defaults of the committed prometheus-rules/alertmanager.yml: the chart's operator Service for a release named
 * `torchain` in namespace `torchain`, and the path kube-prometheus-stack mounts `alertmanager.alertmanagerSpec.secrets`
 * at (/etc/alertmanager/secrets/<Secret>/<key>).
 */
export const DEFAULT_WEBHOOK_TARGET: WebhookTarget = {
  url: `http://torchain-operator.torchain.svc:8080${WEBHOOK_PATH}`,
  credentialsFile: '/etc/alertmanager/secrets/torchain-webhook-token/token',
};

const [switchLabel, switchValue] = Object.entries(SWITCH_LABEL)[0] as [string, string];

/**
 * Alerts per notification: a body of this many worst-case switch alerts stays under the operator's 1 MiB limit
 * (webhook-size.ts; docs/alerting.md gives the figure). Alertmanager cuts longer lists and counts the rest in
 * `truncatedAlerts`, instead of sending a body the operator must refuse with 413 (dropped for good).
 */
export const MAX_ALERTS = webhookMaxAlerts();

/** The switch route and its receiver in alertmanager.yml syntax (snake_case). No validation: see renderAlertmanagerConfig. */
export function buildSwitchRoute(p: AlertingParams, target: WebhookTarget) {
  return {
    route: {
      receiver: RECEIVER,
      matchers: [`${switchLabel}="${switchValue}"`],
      group_by: [...GROUP_BY],
      group_wait: p.route.groupWait,
      group_interval: p.route.groupInterval,
      repeat_interval: p.route.repeatInterval,
    },
    receiver: {
      name: RECEIVER,
      webhook_configs: [
        {
          url: target.url,
          // The operator needs resolutions too: they end a failover and clear its view of the chain.
          send_resolved: true,
          max_alerts: MAX_ALERTS,
          http_config: { authorization: { type: 'Bearer', credentials_file: target.credentialsFile } },
        },
      ],
    },
  };
}

/**
 * A complete alertmanager.yml: switch alerts go to the operator; every other alert goes to the `default` receiver,
 * which has no integration (merge the `routes` entry and the receiver into your own configuration instead).
 */
export function renderAlertmanagerConfig(params: AlertingParams, target: WebhookTarget = DEFAULT_WEBHOOK_TARGET) {
  const p = validateParams(params);
  if (!/^https?:\/\//.test(target.url))
    throw new Error(`webhook URL "${target.url}" must start with http:// or https://`);
  if (!target.credentialsFile.startsWith('/'))
    throw new Error(`webhook credentials file "${target.credentialsFile}" must be an absolute path`);
  const { route, receiver } = buildSwitchRoute(p, target);
  return {
    route: {
      receiver: 'default',
      group_by: ['alertname', 'namespace'],
      routes: [route],
    },
    receivers: [{ name: 'default' }, receiver],
  };
}

export function alertmanagerYaml(config: object): string {
  return stringify(config, { lineWidth: 0 });
}

/**
 * AlertmanagerConfig (monitoring.coreos.com/v1alpha1) spec for the chains of one namespace: same route, the token
 * read from a Secret of that namespace (prometheus-operator reads an AlertmanagerConfig's Secrets in its own
 * namespace only). The route matches the namespace itself as well: the Prometheus Operator adds that matcher under
 * its default strategy (OnNamespace), and with the strategy `None` it keeps each namespace's alerts to its own
 * AlertmanagerConfig instead of notifying the operator once per namespace.
 */
export function buildAlertmanagerConfigSpec(
  p: AlertingParams,
  webhook: { url: string; tokenSecretName: string; tokenSecretKey: string; namespace: string },
) {
  return {
    route: {
      receiver: RECEIVER,
      matchers: [
        { name: switchLabel, value: switchValue, matchType: '=' },
        { name: 'namespace', value: webhook.namespace, matchType: '=' },
      ],
      groupBy: [...GROUP_BY],
      groupWait: p.route.groupWait,
      groupInterval: p.route.groupInterval,
      repeatInterval: p.route.repeatInterval,
    },
    receivers: [
      {
        name: RECEIVER,
        webhookConfigs: [
          {
            url: webhook.url,
            sendResolved: true,
            maxAlerts: MAX_ALERTS,
            httpConfig: {
              authorization: {
                type: 'Bearer',
                credentials: { name: webhook.tokenSecretName, key: webhook.tokenSecretKey },
              },
            },
          },
        ],
      },
    ],
  };
}
