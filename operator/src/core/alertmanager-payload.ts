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

/** The envelope of a version-4 notification; each alert is checked on its own (one bad alert spoils nothing else). */
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
  alerts: Type.Array(Type.Unknown()),
});

export type WebhookPayload = Static<typeof WebhookPayloadSchema>;
export type Alert = Static<typeof AlertSchema>;

const ajv = createSchemaAjv();
const checkEnvelope = compileValidator(ajv, plainSchema(WebhookPayloadSchema));
const checkAlert = compileValidator(ajv, plainSchema(AlertSchema));

/** A switch alert that could not be read: skipped and reported (summary, log, metric), the rest is acted on. */
export interface MalformedAlert {
  /** Position in the notification's `alerts`. */
  index: number;
  alertname?: string;
  namespace?: string;
  torchain?: string;
  hop?: string;
  error: string;
}

export interface ParsedNotification {
  /** Firing switch alerts. */
  firing: SwitchAlert[];
  /** Resolved switch alerts (counted, never acted on). */
  resolved: number;
  /** Alerts without torchain_action="switch" (informational alerts routed here by a broad route). */
  ignored: number;
  /** Switch alerts (or alerts that cannot even say what they are) that were skipped. */
  malformed: MalformedAlert[];
  groupKey?: string;
  truncatedAlerts: number;
}

export type ParseResult = { ok: true; value: ParsedNotification } | { ok: false; error: string };

const HOP = /^[1-9][0-9]{0,5}$/;

function labelsOf(alert: unknown): Record<string, unknown> | undefined {
  const labels = alert !== null && typeof alert === 'object' ? (alert as { labels?: unknown }).labels : undefined;
  return labels !== null && typeof labels === 'object' ? (labels as Record<string, unknown>) : undefined;
}

function malformed(index: number, labels: Record<string, unknown> | undefined, error: string): MalformedAlert {
  const m: MalformedAlert = { index, error };
  for (const key of ['alertname', 'namespace', 'torchain', 'hop'] as const) {
    const v = labels?.[key];
    if (typeof v === 'string' && v) m[key] = v;
  }
  return m;
}

/**
 * Validates a decoded JSON body and extracts its switch alerts. A body that is not a version-4 notification at all is
 * refused (400); within a valid one, a malformed switch alert is skipped and reported, never the whole notification:
 * Alertmanager drops a notification answered with 4xx, and with it every other chain of the group.
 */
export function parseNotification(body: unknown): ParseResult {
  const errors = checkEnvelope(body);
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
    malformed: [],
    truncatedAlerts: payload.truncatedAlerts ?? 0,
  };
  if (payload.groupKey !== undefined) out.groupKey = payload.groupKey;
  for (const [i, raw] of payload.alerts.entries()) {
    const labels = labelsOf(raw);
    // An alert that says it is not a switch alert is none of the operator's business, whatever else is wrong with it.
    if (labels && labels[ACTION_LABEL] !== ACTION_SWITCH) {
      out.ignored++;
      continue;
    }
    const at = `alerts[${String(i)}]`;
    const alertErrors = checkAlert(raw);
    if (alertErrors.length) {
      const fields = alertErrors.map((e) => ({ ...e, field: e.field ? `${at}.${e.field}` : at }));
      out.malformed.push(malformed(i, labels, `invalid alert: ${formatFieldErrors(fields)}`));
      continue;
    }
    const alert = raw as Alert;
    const missing = ['namespace', 'torchain', 'hop'].filter((l) => !alert.labels[l]);
    if (missing.length) {
      out.malformed.push(
        malformed(
          i,
          labels,
          `${at} (${alert.labels.alertname ?? 'no alertname'}) asks for a switch but lacks the label(s) ${missing.join(', ')}: the switch rules must keep namespace, torchain and hop`,
        ),
      );
      continue;
    }
    if (!HOP.test(alert.labels.hop!)) {
      out.malformed.push(
        malformed(i, labels, `${at}: label hop=${JSON.stringify(alert.labels.hop)} is not a hop number (1, 2, ...)`),
      );
      continue;
    }
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
