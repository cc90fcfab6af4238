{{/*
The namespaces where the operator manages hop Secrets and Deployments, as a JSON list: operator.watchNamespace alone
when set, else every chain namespace plus operator.rbac.extraNamespaces. The operator gets the same list
(TORCHAIN_WORKLOAD_NAMESPACES) and watches its objects there only.
*/}}
{{- define "torchain.operator.workloadNamespaces" -}}
{{- if .Values.operator.watchNamespace -}}
{{- toJson (list .Values.operator.watchNamespace) -}}
{{- else -}}
{{- include "torchain.workloadNamespaces" . -}}
{{- end -}}
{{- end -}}

{{/* TORCHAIN_WORKLOAD_NAMESPACES: "*" with operator.rbac.clusterWideWorkloads (and no watchNamespace), else the list. */}}
{{- define "torchain.operator.workloadNamespacesEnv" -}}
{{- if and .Values.operator.rbac.clusterWideWorkloads (not .Values.operator.watchNamespace) -}}
*
{{- else -}}
{{- join "," (fromJsonArray (include "torchain.operator.workloadNamespaces" .)) -}}
{{- end -}}
{{- end -}}

{{/* What the operator does with hop workloads in a namespace (operator/src/adapters/kube/calls.ts, scope workloads). */}}
{{- define "torchain.operator.workloadRules" -}}
- apiGroups: [""]
  resources: [secrets]
  verbs: [list, watch, create, update]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, create, update, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end -}}
