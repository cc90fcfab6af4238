{{/*
Namespaces that get the operator's AlertmanagerConfig and a copy of the webhook token Secret: every chain namespace,
operator.rbac.extraNamespaces (TorChains created by hand), the release namespace (TorChains created there by hand)
and operator.watchNamespace. The Prometheus Operator routes an AlertmanagerConfig only the alerts of its own namespace
(alertmanagerConfigMatcherStrategy OnNamespace, its default) and reads its Secrets in that namespace only, so a chain
in a namespace missing here would never reach the operator. A sorted, de-duplicated JSON list.
*/}}
{{- define "torchain.alerting.namespaces" -}}
{{- $namespaces := fromJsonArray (include "torchain.workloadNamespaces" .) -}}
{{- $namespaces = append $namespaces (include "torchain.namespace" .) -}}
{{- with .Values.operator.watchNamespace }}{{ $namespaces = append $namespaces . }}{{ end -}}
{{- toJson ($namespaces | uniq | sortAlpha) -}}
{{- end -}}
