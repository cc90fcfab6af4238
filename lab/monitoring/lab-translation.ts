// What the lab calls to get its Prometheus and Alertmanager configuration the way a cluster gets it: the monitoring
// objects the chart created in lab/kube, translated as prometheus-operator does with kube-prometheus-stack's defaults,
// with one difference a Prometheus outside the cluster needs (apiserverConfig: lab/kube's URL, a ServiceAccount token
// file, its CA), plus whatever spec the lab sets on purpose (intervals at lab timings).
import { readMonitoringObjects } from './cluster-objects.js';
import { kubePrometheusStack, translate, type KpsOptions, type Translation } from './prometheus-operator/index.js';

export interface LabTranslationOptions {
  /** Admin kubeconfig of lab/kube (to read the objects). */
  kubeconfigPath: string;
  /** lab/kube's URL, and the files Prometheus authenticates with (a ServiceAccount token, lab/kube's CA). */
  apiServer: { url: string; tokenFile: string; caFile: string };
  /** Where startPrometheusFromTranslation writes the rule files (rulesDirOf(its dir)). */
  rulesDir: string;
  /** kps release and namespace (default kube-prometheus-stack in monitoring). */
  release?: string;
  namespace?: string;
  /** Extra Prometheus spec (e.g. scrapeInterval/evaluationInterval for lab timings) and Alertmanager spec. */
  prometheusSpec?: Record<string, unknown>;
  alertmanagerSpec?: Record<string, unknown>;
}

export async function labMonitoringTranslation(opts: LabTranslationOptions): Promise<Translation> {
  const kpsOpts: KpsOptions = {
    ...(opts.release ? { release: opts.release } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    prometheusSpec: {
      apiserverConfig: {
        host: opts.apiServer.url,
        authorization: { type: 'Bearer', credentialsFile: opts.apiServer.tokenFile },
        tlsConfig: { caFile: opts.apiServer.caFile },
      },
      ...(opts.prometheusSpec ?? {}),
    },
    alertmanagerSpec: opts.alertmanagerSpec ?? {},
  };
  const kps = kubePrometheusStack(kpsOpts);
  const cluster = await readMonitoringObjects(opts.kubeconfigPath);
  return translate({
    prometheus: kps.prometheus,
    alertmanager: kps.alertmanager,
    namespaces: cluster.namespaces,
    objects: [...cluster.objects, ...kps.objects],
    rulesDir: opts.rulesDir,
  });
}
