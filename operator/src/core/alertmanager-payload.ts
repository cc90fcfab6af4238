// The Alertmanager webhook payload, version 4 (prometheus/alertmanager notify/webhook: Message), validated with ajv,
// and its reduction to the switch alerts the failover decision reads.
import { Type, type Static } from '@sinclair/typebox';
import { ACTION_LABEL, ACTION_SWITCH } from '../../../common/contracts/labels.js';
import { compileValidator, createSchemaAjv, formatFieldErrors } from '../api/schema-validator.js';
import { plainSchema } from '../api/torchain.js';
import type { SwitchAlert } from './failover.js';

const StringMap = Type.Record(Type.String(), Type.String());
const AlertStatus = Type.Union([Type.Literal('firing'), Type.Literal('resolved')]);

export const AlertSchema = Type.Object({
  status: AlertStatus,
  labels: StringMap,
  annotations: Type.Optional(StringMap),
  startsAt: Type.String({ format: 'date-time' }),
  // A firing alert carries endsAt "0001-01-01T00:00:00Z" or a future time: status, not endsAt, tells firing apart.
  endsAt: Type.Optional(Type.String()),
  generatorURL: Type.Optional(Type.String()),
  fingerprint: Type.Optional(Type.String()),
});

export const WebhookPayloadSchema = Type.Object({
  version: Type.Literal('4'),
  groupKey: Type.Optional(Type.String()),
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
  status: AlertStatus,
  receiver: Type.Optional(Type.String()),
  groupLabels: Type.Optional(StringMap),
  commonLabels: Type.Optional(StringMap),
  commonAnnotations: Type.Optional(StringMap),
  externalURL: Type.Optional(Type.String()),
  alerts: Type.Array(AlertSchema),
});

export type WebhookPayload = Static<typeof WebhookPayloadSchema>;
export type Alert = Static<typeof AlertSchema>;

const check = compileValidator(createSchemaAjv(), plainSchema(WebhookPayloadSchema));

export interface ParsedNotification {
  /** Firing switch alerts. */
  firing: SwitchAlert[];
  /** Resolved switch alerts (counted, never acted on). */
  resolved: number;
  /** Alerts without torchain_action="switch" (informational alerts routed here by a broad route). */
  ignored: number;
  groupKey?: string;
  truncatedAlerts: number;
}

export type ParseResult = { ok: true; value: ParsedNotification } | { ok: false; error: string };

const HOP = /^[1-9][0-9]{0,5}$/;

/** Validates a decoded JSON body and extracts its switch alerts; any invalid switch alert rejects the whole body. */
export function parseNotification(body: unknown): ParseResult {
  const errors = check(body);
  if (errors.length) {
    const wrongVersion =
      body !== null && typeof body === 'object' && 'version' in body && (body as { version: unknown }).version !== '4';
    return {
      ok: false,
      error: wrongVersion
        ? `unsupported webhook payload version ${JSON.stringify((body as { version: unknown }).version)}: expected "4" (Alertmanager >= 0.16)`
        : `invalid Alertmanager webhook payload: ${formatFieldErrors(errors)}`,
    };
  }
  const payload = body as WebhookPayload;
  const out: ParsedNotification = {
    firing: [],
    resolved: 0,
    ignored: 0,
    truncatedAlerts: payload.truncatedAlerts ?? 0,
  };
  if (payload.groupKey !== undefined) out.groupKey = payload.groupKey;
  for (const [i, alert] of payload.alerts.entries()) {
    if (alert.labels[ACTION_LABEL] !== ACTION_SWITCH) {
      out.ignored++;
      continue;
    }
    const missing = ['namespace', 'torchain', 'hop'].filter((l) => !alert.labels[l]);
    if (missing.length)
      return {
        ok: false,
        error: `alerts[${String(i)}] (${alert.labels.alertname ?? 'no alertname'}) asks for a switch but lacks the label(s) ${missing.join(', ')}: the switch rules must keep namespace, torchain and hop`,
      };
    if (!HOP.test(alert.labels.hop!))
      return {
        ok: false,
        error: `alerts[${String(i)}]: label hop=${JSON.stringify(alert.labels.hop)} is not a hop number (1, 2, ...)`,
      };
    if (alert.status === 'resolved') {
      out.resolved++;
      continue;
    }
    const a: SwitchAlert = {
      namespace: alert.labels.namespace!,
      torchain: alert.labels.torchain!,
      hop: Number(alert.labels.hop),
      startsAt: alert.startsAt,
    };
    if (alert.fingerprint) a.fingerprint = alert.fingerprint;
    if (alert.labels.alertname) a.alertname = alert.labels.alertname;
    if (alert.labels.server) a.server = alert.labels.server;
    out.firing.push(a);
  }
  return { ok: true, value: out };
}
