// alertmanager.yaml from an Alertmanager resource, its base configuration Secret and the AlertmanagerConfig objects
// it selects, following prometheus-operator v0.93 pkg/alertmanager/operator.go (provisionAlertmanagerConfiguration,
// selectAlertmanagerConfigs, checkAlertmanagerConfigResource), validation/v1alpha1 (ValidateAlertmanagerConfig) and
// amcfg.go (ConfigBuilder: AddAlertmanagerConfigs, convertRoute, convertReceiver, convertWebhookConfig,
// convertHTTPConfig, convertInhibitRule, the namespace enforcers). Keys are emitted in the order of upstream's
// structs (types.go). Fields outside what torchain and kube-prometheus-stack use throw NotTranslatedError.
import { parse } from 'yaml';
import {
  InvalidObjectError,
  NotTranslatedError,
  arr,
  bool,
  isObj,
  isUnset,
  keyOf,
  onlyKnown,
  str,
  type Obj,
} from './fields.js';
import { checkLabelSelector, labelSelectorMatches, selectNamespaces } from './selectors.js';
import type { SecretStore } from './secrets.js';
import type {
  AlertmanagerResource,
  KubeObject,
  LabelSelector,
  NamespaceInfo,
  Rejection,
  SecretKeySelector,
} from './types.js';

export type MatcherStrategy = 'OnNamespace' | 'OnNamespaceExceptForAlertmanagerNamespace' | 'None';

/** operator.go defaultAlertmanagerConfiguration: used when the config Secret or its key is missing or empty. */
export const DEFAULT_BASE_CONFIG = "route:\n  receiver: 'null'\nreceivers:\n- name: 'null'";

const CONFIG_FIELDS = [
  'alertmanagerConfigSelector',
  'alertmanagerConfigNamespaceSelector',
  'alertmanagerConfigMatcherStrategy',
  'configSecret',
  'version',
] as const;
const POD_ONLY_FIELDS = [
  'replicas',
  'image',
  'retention',
  'resources',
  'securityContext',
  'serviceAccountName',
  'nodeSelector',
  'tolerations',
  'affinity',
  'storage',
  'podMetadata',
  'logLevel',
  'logFormat',
  'paused',
  'portName',
  'routePrefix',
  'externalUrl',
  'listenLocal',
  'web',
  'containers',
  'initContainers',
  'volumes',
  'volumeMounts',
  'secrets',
  'configMaps',
  'priorityClassName',
  'enableFeatures',
  'additionalArgs',
  'imagePullSecrets',
  'minReadySeconds',
  'forceEnableClusterMode',
  'automountServiceAccountToken',
  'topologySpreadConstraints',
  'clusterAdvertiseAddress',
  'clusterGossipInterval',
  'clusterPushpullInterval',
  'clusterPeerTimeout',
  'clusterLabel',
  'persistentVolumeClaimRetentionPolicy',
] as const;

const BASE_ROUTE_KEYS = [
  'receiver',
  'group_by',
  'match',
  'match_re',
  'matchers',
  'continue',
  'routes',
  'group_wait',
  'group_interval',
  'repeat_interval',
  'mute_time_intervals',
  'active_time_intervals',
];
const INHIBIT_KEYS = [
  'target_match',
  'target_match_re',
  'target_matchers',
  'source_match',
  'source_match_re',
  'source_matchers',
  'equal',
];
const WEBHOOK_KEYS = ['send_resolved', 'url', 'url_file', 'http_config', 'max_alerts', 'timeout'];
const HTTP_KEYS = [
  'authorization',
  'basic_auth',
  'bearer_token',
  'bearer_token_file',
  'tls_config',
  'follow_redirects',
  'enable_http2',
];

export interface AlertmanagerContext {
  alertmanager: AlertmanagerResource;
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
  secrets: SecretStore;
}

/** `o` with `keys` in this order, empty values left out (yaml `omitempty`); `continue: false` is its zero value. */
const ordered = (o: Obj, keys: string[]): Obj => {
  const out: Obj = {};
  for (const k of keys) {
    const v = o[k];
    if (v === false ? k !== 'continue' : !isUnset(v)) out[k] = v;
  }
  return out;
};

/** Semantic version as [major, minor, patch] (semver.ParseTolerant on "v0.34.0"). */
function version(v: string | undefined): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v ?? 'v0.33.1'); // DefaultAlertmanagerVersion of v0.93
  if (!m) throw new InvalidObjectError(`unparseable Alertmanager version "${v}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}
const atLeast = (v: [number, number, number], maj: number, min: number) => v[0] > maj || (v[0] === maj && v[1] >= min);

// ---------------------------------------------------------------------------------------------------------------
// The base configuration (the Secret alertmanager-<name>, key alertmanager.yaml), checked as
// alertmanagerConfigFromBytes and checkAlertmanagerConfigRootRoute do, re-emitted in upstream's key order.

function baseRoute(r: unknown, where: string): Obj {
  const route = onlyKnown(r, BASE_ROUTE_KEYS, where, 'route');
  if (!isUnset(route.mute_time_intervals) || !isUnset(route.active_time_intervals))
    throw new NotTranslatedError(where, 'route.mute_time_intervals/active_time_intervals');
  const out = ordered(route, BASE_ROUTE_KEYS);
  if (route.routes) out.routes = arr(route.routes).map((c) => baseRoute(c, where));
  return ordered(out, BASE_ROUTE_KEYS);
}

function baseReceiver(r: unknown, where: string): Obj {
  const rec = onlyKnown(r, ['name', 'webhook_configs'], where, 'receivers[]');
  const out: Obj = { name: rec.name };
  if (arr(rec.webhook_configs).length)
    out.webhook_configs = arr<Obj>(rec.webhook_configs).map((w) => {
      const wc = ordered(onlyKnown(w, WEBHOOK_KEYS, where, 'receivers[].webhook_configs[]'), WEBHOOK_KEYS);
      if (wc.http_config)
        wc.http_config = ordered(onlyKnown(wc.http_config, HTTP_KEYS, where, 'http_config'), HTTP_KEYS);
      return wc;
    });
  return out;
}

export function parseBaseConfig(text: string, where: string): Obj {
  const doc = parse(text) as unknown;
  const c = onlyKnown(
    doc,
    ['global', 'route', 'inhibit_rules', 'receivers', 'templates', 'mute_time_intervals', 'time_intervals'],
    where,
    '',
  );
  if (!isUnset(c.mute_time_intervals) || !isUnset(c.time_intervals))
    throw new NotTranslatedError(where, 'mute_time_intervals/time_intervals');
  const route = c.route as Obj | undefined;
  // checkAlertmanagerConfigRootRoute
  if (!isObj(route)) throw new InvalidObjectError(`${where}: root route must exist`);
  if (route.continue === true) throw new InvalidObjectError(`${where}: cannot have continue in root route`);
  if (!str(route.receiver)) throw new InvalidObjectError(`${where}: root route's receiver must exist`);
  if (!isUnset(route.matchers) || !isUnset(route.match) || !isUnset(route.match_re))
    throw new InvalidObjectError(`${where}: 'matchers' not permitted on root route`);
  const receivers = arr(c.receivers).map((r) => baseReceiver(r, where));
  const names = new Set(receivers.map((r) => r.name));
  const checkRefs = (r: Obj) => {
    if (str(r.receiver) && !names.has(r.receiver))
      throw new InvalidObjectError(`${where}: undefined receiver "${String(r.receiver)}" used in route`);
    arr<Obj>(r.routes).forEach(checkRefs);
  };
  checkRefs(route);
  const out: Obj = {};
  if (!isUnset(c.global)) out.global = onlyKnown(c.global, ['resolve_timeout'], where, 'global');
  out.route = baseRoute(route, where);
  if (arr(c.inhibit_rules).length)
    out.inhibit_rules = arr(c.inhibit_rules).map((ir) =>
      ordered(onlyKnown(ir, INHIBIT_KEYS, where, 'inhibit_rules[]'), INHIBIT_KEYS),
    );
  out.receivers = receivers;
  out.templates = arr(c.templates);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// AlertmanagerConfig validation (ValidateAlertmanagerConfig + checkReceivers/checkRoute/checkInhibitRules).

const MATCH_TYPES = ['=', '!=', '=~', '!~'];

function checkMatcher(m: Obj, where: string): void {
  onlyKnown(m, ['name', 'value', 'matchType', 'regex'], where, 'matcher');
  if (!str(m.matchType)) return;
  if (!MATCH_TYPES.includes(String(m.matchType)))
    throw new InvalidObjectError(`invalid 'matchType' '${String(m.matchType)}' provided'`);
  if (!String(m.name ?? '').trim()) throw new InvalidObjectError("matcher 'name' is required");
}

/** validation.ValidateSecretURL (common.SecretURL): an absolute http(s) URL. */
function checkUrl(url: string): void {
  if (url.includes('{{')) return; // a template, parsed by Alertmanager
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidObjectError(`validate url from string failed with error: parse "${url}": invalid URL`);
  }
  if (!['http:', 'https:'].includes(u.protocol))
    throw new InvalidObjectError(
      `validate url from string failed with error: unsupported scheme "${u.protocol.slice(0, -1)}" for URL`,
    );
  if (!u.host)
    throw new InvalidObjectError('validate url from string failed with error: host for URL must not be empty');
}

function checkRoute(r: Obj | undefined, receivers: Set<string>, top: boolean, where: string): void {
  if (!r) return;
  onlyKnown(
    r,
    ['receiver', 'groupBy', 'groupWait', 'groupInterval', 'repeatInterval', 'matchers', 'continue', 'routes'],
    where,
    'spec.route',
  );
  if (!str(r.receiver)) {
    if (top) throw new InvalidObjectError('root route must define a receiver');
  } else if (!receivers.has(String(r.receiver)))
    throw new InvalidObjectError(`receiver "${String(r.receiver)}" not found`);
  const groupBy = arr<string>(r.groupBy);
  if (new Set(groupBy).size !== groupBy.length)
    throw new InvalidObjectError(`duplicate values not permitted in route 'groupBy': [${groupBy.join(' ')}]`);
  if (groupBy.includes('...') && groupBy.length > 1)
    throw new InvalidObjectError(`'...' must be a sole value in route 'groupBy': [${groupBy.join(' ')}]`);
  arr<Obj>(r.matchers).forEach((m, i) => {
    try {
      checkMatcher(m, where);
    } catch (e) {
      if (e instanceof InvalidObjectError) throw new InvalidObjectError(`matcher[${i}]: ${e.message}`);
      throw e;
    }
  });
  arr<Obj>(r.routes).forEach((c, i) => {
    try {
      checkRoute(c, receivers, false, where);
    } catch (e) {
      if (e instanceof InvalidObjectError) throw new InvalidObjectError(`route[${i}]: ${e.message}`);
      throw e;
    }
  });
}

function checkHttpConfig(hc: unknown, where: string, path: string): Obj {
  const h = onlyKnown(hc, ['authorization', 'bearerTokenSecret', 'followRedirects', 'enableHttp2'], where, path);
  if (!isUnset(h.authorization)) onlyKnown(h.authorization, ['type', 'credentials'], where, `${path}.authorization`);
  return h;
}

/** checkAlertmanagerConfigResource: the semantic checks, then every Secret reference (a missing one rejects the object). */
function checkAlertmanagerConfig(amc: KubeObject, secrets: SecretStore): void {
  const where = `AlertmanagerConfig ${keyOf(amc.metadata)}`;
  const spec = onlyKnown(amc.spec, ['route', 'receivers', 'inhibitRules'], where, 'spec');
  const names = new Set<string>();
  arr<Obj>(spec.receivers).forEach((r, ri) => {
    const rec = onlyKnown(r, ['name', 'webhookConfigs'], where, `spec.receivers[${ri}]`);
    if (names.has(String(rec.name))) throw new InvalidObjectError(`"${String(rec.name)}" receiver is not unique`);
    names.add(String(rec.name));
    arr<Obj>(rec.webhookConfigs).forEach((w, wi) => {
      const path = `spec.receivers[${ri}].webhookConfigs[${wi}]`;
      const wc = onlyKnown(w, ['url', 'urlSecret', 'sendResolved', 'maxAlerts', 'httpConfig', 'timeout'], where, path);
      const fail = (msg: string) =>
        new InvalidObjectError(`failed to validate receiver "${String(rec.name)}": 'webhookConfigs'[${wi}]: ${msg}`);
      if (isUnset(wc.url) && isUnset(wc.urlSecret)) throw fail("one of 'url' or 'urlSecret' must be specified");
      if (str(wc.url)) {
        try {
          checkUrl(String(wc.url));
        } catch (e) {
          throw fail(`invalid 'url': ${(e as Error).message}`);
        }
      }
      checkHttpConfig(wc.httpConfig, where, `${path}.httpConfig`);
    });
  });
  checkRoute(spec.route as Obj | undefined, names, true, where);
  // checkReceivers: every referenced Secret must exist in the AlertmanagerConfig's namespace.
  const ns = amc.metadata.namespace ?? '';
  for (const r of arr<Obj>(spec.receivers))
    for (const w of arr<Obj>(r.webhookConfigs)) {
      if (!isUnset(w.urlSecret)) checkUrl(secrets.get(ns, w.urlSecret as SecretKeySelector).trim());
      const h = (w.httpConfig ?? {}) as Obj;
      if (!isUnset(h.bearerTokenSecret)) secrets.get(ns, h.bearerTokenSecret as SecretKeySelector);
      const auth = h.authorization as Obj | undefined;
      if (auth && !isUnset(auth.credentials)) {
        try {
          secrets.get(ns, auth.credentials as SecretKeySelector);
        } catch (e) {
          throw new InvalidObjectError(
            `failed to get authorization token of type "${str(auth.type) ?? 'Bearer'}": ${(e as Error).message}`,
          );
        }
      }
    }
  arr<Obj>(spec.inhibitRules).forEach((ir, i) => {
    const rule = onlyKnown(ir, ['sourceMatch', 'targetMatch', 'equal'], where, `spec.inhibitRules[${i}]`);
    arr<Obj>(rule.targetMatch).forEach((m, j) => {
      try {
        checkMatcher(m, where);
      } catch (e) {
        throw new InvalidObjectError(
          `invalid targetMatchers[${j}] in inhibitRule[${i}] in config ${amc.metadata.name}: ${(e as Error).message}`,
        );
      }
    });
    arr<Obj>(rule.sourceMatch).forEach((m, j) => {
      try {
        checkMatcher(m, where);
      } catch (e) {
        throw new InvalidObjectError(
          `invalid sourceMatchers[${j}] in inhibitRule[${i}] in config ${amc.metadata.name}: ${(e as Error).message}`,
        );
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion (amcfg.go).

/** openMetricsEscape, then Matcher.String(): name<op>"value". */
const matcherString = (name: string, op: string, value: string) =>
  `${name}${op}"${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;

/** convertMatchersV2 (Alertmanager >= 0.22): matchType wins; the deprecated `regex` flag maps to =~. */
const convertMatchers = (ms: Obj[]): string[] =>
  ms.map((m) =>
    matcherString(String(m.name), str(m.matchType) ?? (m.regex === true ? '=~' : '='), String(m.value ?? '')),
  );

/** makeNamespacedString */
const namespaced = (s: unknown, ns: string, name: string) => (str(s) ? `${ns}/${name}/${String(s)}` : undefined);

/** convertRoute (+ route.sanitize: zero group_interval/repeat_interval are dropped) */
function convertRoute(r: Obj, ns: string, name: string): Obj {
  const out: Obj = {};
  const receiver = namespaced(r.receiver, ns, name);
  if (receiver) out.receiver = receiver;
  if (arr(r.groupBy).length) out.group_by = r.groupBy;
  const matchers = convertMatchers(arr<Obj>(r.matchers));
  if (matchers.length) out.matchers = matchers;
  if (r.continue === true) out.continue = true;
  if (arr(r.routes).length) out.routes = arr<Obj>(r.routes).map((c) => convertRoute(c, ns, name));
  if (str(r.groupWait)) out.group_wait = r.groupWait;
  if (str(r.groupInterval) && !/^0+[a-z]*$/.test(String(r.groupInterval))) out.group_interval = r.groupInterval;
  if (str(r.repeatInterval) && !/^0+[a-z]*$/.test(String(r.repeatInterval))) out.repeat_interval = r.repeatInterval;
  return out;
}

/** convertHTTPConfig: credentials are read from the AlertmanagerConfig's namespace and written inline. */
function convertHttpConfig(h: Obj | undefined, ns: string, secrets: SecretStore): Obj | undefined {
  if (!h) return undefined;
  const out: Obj = {};
  const auth = h.authorization as Obj | undefined;
  if (auth && !isUnset(auth.credentials)) {
    const credentials = secrets.get(ns, auth.credentials as SecretKeySelector);
    if (credentials !== '') out.authorization = { type: str(auth.type) ?? 'Bearer', credentials };
  }
  if (!isUnset(h.bearerTokenSecret)) out.bearer_token = secrets.get(ns, h.bearerTokenSecret as SecretKeySelector);
  if (bool(h.followRedirects) !== undefined) out.follow_redirects = h.followRedirects;
  if (bool(h.enableHttp2) !== undefined) out.enable_http2 = h.enableHttp2;
  return out;
}

/** convertReceiver + convertWebhookConfig (+ webhookConfig.sanitize: `timeout` needs Alertmanager >= 0.28). */
function convertReceiver(r: Obj, ns: string, name: string, secrets: SecretStore, v: [number, number, number]): Obj {
  const out: Obj = { name: namespaced(r.name, ns, name) };
  const webhooks = arr<Obj>(r.webhookConfigs).map((w) => {
    const wc: Obj = {};
    if (bool(w.sendResolved) !== undefined) wc.send_resolved = w.sendResolved;
    wc.url = !isUnset(w.urlSecret) ? secrets.get(ns, w.urlSecret as SecretKeySelector) : w.url;
    const http = convertHttpConfig(w.httpConfig as Obj | undefined, ns, secrets);
    if (http) wc.http_config = http;
    if (typeof w.maxAlerts === 'number' && w.maxAlerts > 0) wc.max_alerts = w.maxAlerts;
    if (str(w.timeout) && atLeast(v, 0, 28)) wc.timeout = w.timeout;
    return wc;
  });
  if (webhooks.length) out.webhook_configs = webhooks;
  return out;
}

/** convertInhibitRule (target first, as the struct orders them) */
function convertInhibitRule(ir: Obj): Obj {
  const out: Obj = {};
  const target = convertMatchers(arr<Obj>(ir.targetMatch));
  const source = convertMatchers(arr<Obj>(ir.sourceMatch));
  if (target.length) out.target_matchers = target;
  if (source.length) out.source_matchers = source;
  if (arr(ir.equal).length) out.equal = ir.equal;
  return out;
}

/** getEnforcer: the namespace matcher each AlertmanagerConfig's top route (and inhibit rules) get. */
function enforceNamespace(strategy: MatcherStrategy, amNamespace: string, ns: string): boolean {
  if (strategy === 'None') return false;
  if (strategy === 'OnNamespaceExceptForAlertmanagerNamespace') return ns !== amNamespace;
  return true;
}

function processInhibitRule(ir: Obj, ns: string): Obj {
  const m = matcherString('namespace', '=', ns);
  const out = { ...ir };
  const add = (list: string[]) => (list.includes(m) ? list : [...list, m]);
  out.target_matchers = add(arr<string>(ir.target_matchers));
  out.source_matchers = add(arr<string>(ir.source_matchers));
  return ordered(out, INHIBIT_KEYS);
}

export interface AlertmanagerResult {
  config: Obj;
  selected: string[];
  rejected: Rejection[];
}

/** provisionAlertmanagerConfiguration */
export function generateAlertmanagerConfig(ctx: AlertmanagerContext): AlertmanagerResult {
  const am = ctx.alertmanager;
  const where = `Alertmanager ${am.metadata.namespace}/${am.metadata.name}`;
  const spec = onlyKnown(am.spec, [...CONFIG_FIELDS, ...POD_ONLY_FIELDS], where, 'spec');
  const v = version(str(spec.version));
  if (!atLeast(v, 0, 22))
    throw new NotTranslatedError(where, 'spec.version', 'Alertmanager < 0.22 (matchers v1) is not translated');
  const strategyType =
    str(
      onlyKnown(spec.alertmanagerConfigMatcherStrategy, ['type'], where, 'spec.alertmanagerConfigMatcherStrategy').type,
    ) ?? 'OnNamespace';
  if (!['OnNamespace', 'OnNamespaceExceptForAlertmanagerNamespace', 'None'].includes(strategyType))
    throw new InvalidObjectError(`${where}: unknown alertmanagerConfigMatcherStrategy type "${strategyType}"`);
  const strategy = strategyType as MatcherStrategy;
  // loadConfigurationFromSecret
  const secretName = str(spec.configSecret) ?? `alertmanager-${am.metadata.name}`;
  const raw = ctx.secrets.find(am.metadata.namespace, secretName, 'alertmanager.yaml');
  const base = parseBaseConfig(
    raw ? raw : DEFAULT_BASE_CONFIG,
    `${where}: Secret ${am.metadata.namespace}/${secretName} alertmanager.yaml`,
  );
  const selector = spec.alertmanagerConfigSelector as LabelSelector | null | undefined;
  // Without a selector (and without alertmanagerConfiguration) the user manages the configuration: used as it is.
  if (selector === undefined || selector === null) return { config: base, selected: [], rejected: [] };
  checkLabelSelector(selector, `${where}: spec.alertmanagerConfigSelector`);
  const namespaces = new Set(
    selectNamespaces(
      am.metadata.namespace,
      spec.alertmanagerConfigNamespaceSelector as LabelSelector | null | undefined,
      ctx.namespaces,
      `${where}: spec.alertmanagerConfigNamespaceSelector`,
    ),
  );
  const selected = new Map<string, KubeObject>();
  const rejected: Rejection[] = [];
  for (const o of ctx.objects) {
    if (o.kind !== 'AlertmanagerConfig' || !namespaces.has(o.metadata.namespace ?? '')) continue;
    if (!labelSelectorMatches(selector, o.metadata.labels ?? {})) continue;
    try {
      checkAlertmanagerConfig(o, ctx.secrets);
      selected.set(keyOf(o.metadata), o);
    } catch (e) {
      if (!(e instanceof InvalidObjectError)) throw e;
      rejected.push({ kind: 'AlertmanagerConfig', object: keyOf(o.metadata), reason: e.message });
    }
  }
  // AddAlertmanagerConfigs: in key order, each top route gets the namespace matcher and `continue: true`, and all of
  // them go before the base configuration's routes.
  const subRoutes: Obj[] = [];
  const inhibit = arr<Obj>(base.inhibit_rules).slice();
  const receivers = arr<Obj>(base.receivers).slice();
  for (const key of [...selected.keys()].sort()) {
    const amc = selected.get(key)!;
    const ns = amc.metadata.namespace!;
    const name = amc.metadata.name;
    const s = amc.spec as Obj;
    const enforce = enforceNamespace(strategy, am.metadata.namespace, ns);
    for (const ir of arr<Obj>(s.inhibitRules))
      inhibit.push(enforce ? processInhibitRule(convertInhibitRule(ir), ns) : convertInhibitRule(ir));
    if (!s.route) continue;
    const route = convertRoute(s.route as Obj, ns, name);
    if (enforce) route.matchers = [...arr<string>(route.matchers), matcherString('namespace', '=', ns)];
    route.continue = true;
    subRoutes.push(ordered(route, BASE_ROUTE_KEYS));
    for (const r of arr<Obj>(s.receivers)) receivers.push(convertReceiver(r, ns, name, ctx.secrets, v));
  }
  const route = { ...(base.route as Obj), routes: [...subRoutes, ...arr<Obj>((base.route as Obj).routes)] };
  const config: Obj = {};
  if (base.global) config.global = base.global;
  config.route = ordered(route, BASE_ROUTE_KEYS);
  if (inhibit.length) config.inhibit_rules = inhibit;
  config.receivers = receivers;
  config.templates = base.templates;
  return { config, selected: [...selected.keys()].sort(), rejected };
}
