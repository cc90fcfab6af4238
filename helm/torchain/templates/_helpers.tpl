{{/*
Names. Object names and label values are kept within 63 characters (a DNS label). The longest suffix the chart
adds to the prefix is "-operator-lease" (15 characters), so the prefix is cut at 48: 48 + 15 = 63.
test/chart/lint.test.ts renders with the longest release name Helm allows (53) and checks every name.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "torchain.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 48 | trimSuffix "-" -}}
{{- end -}}

{{/* The release-scoped prefix of every name: <release>-<chart>, or just <release> when it already holds the chart name. */}}
{{- define "torchain.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Namespace of the operator and of the release's own objects. */}}
{{- define "torchain.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 -}}
{{- end -}}

{{- define "torchain.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "torchain.labels" -}}
helm.sh/chart: {{ include "torchain.chart" . }}
{{ include "torchain.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: torchain
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select the release's pods; never change them between versions (Deployment selectors are immutable). */}}
{{- define "torchain.selectorLabels" -}}
app.kubernetes.io/name: {{ include "torchain.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* Annotations every object carries (commonAnnotations), as a YAML map or nothing. */}}
{{- define "torchain.annotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end -}}

{{/* Operator names and labels. */}}
{{- define "torchain.operator.fullname" -}}
{{- printf "%s-operator" (include "torchain.fullname" .) -}}
{{- end -}}

{{- define "torchain.operator.selectorLabels" -}}
{{ include "torchain.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "torchain.operator.labels" -}}
{{ include "torchain.labels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "torchain.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "torchain.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false: name the ServiceAccount the operator runs as" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Service Alertmanager calls and Prometheus scrapes: name and port. */}}
{{- define "torchain.operator.serviceName" -}}
{{- include "torchain.operator.fullname" . -}}
{{- end -}}

{{- define "torchain.operator.servicePort" -}}
{{- .Values.operator.service.port -}}
{{- end -}}

{{/* URL of the operator's webhook, inside the cluster. */}}
{{- define "torchain.operator.webhookUrl" -}}
{{- printf "http://%s.%s.svc:%v/v1/alertmanager" (include "torchain.operator.serviceName" .) (include "torchain.namespace" .) .Values.operator.service.port -}}
{{- end -}}

{{/* Name and key of the Secret holding Alertmanager's bearer token. */}}
{{- define "torchain.webhook.tokenSecretName" -}}
{{- if .Values.operator.webhook.tokenSecretName -}}
{{- .Values.operator.webhook.tokenSecretName -}}
{{- else if .Values.operator.webhook.createSecret -}}
{{- printf "%s-webhook-token" (include "torchain.fullname" .) -}}
{{- else -}}
{{- fail "operator.webhook.tokenSecretName is required when operator.webhook.createSecret is false: name the Secret that holds the webhook bearer token" -}}
{{- end -}}
{{- end -}}

{{- define "torchain.webhook.tokenSecretKey" -}}
{{- default "token" .Values.operator.webhook.tokenSecretKey -}}
{{- end -}}

{{/*
An image reference from {registry, repository, tag, digest}; global.imageRegistry wins over the image's registry,
the digest over the tag, and the tag defaults to the chart's appVersion.
Call: include "torchain.image" (dict "image" .Values.operator.image "root" $)
*/}}
{{- define "torchain.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry -}}
{{- $repository := required "an image repository is required: set <component>.image.repository" .image.repository -}}
{{- $ref := ternary (printf "%s/%s" $registry $repository) $repository (ne (toString $registry) "") -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (toString (default .root.Chart.AppVersion .image.tag)) -}}
{{- end -}}
{{- end -}}

{{/*
The hop protocols, from the generated CRD's typeNode enum (operator/src/api/torchain.ts, which takes them from the
protocol registry common/contracts/protocols.ts): a JSON list. The chart keeps no list of its own.
*/}}
{{- define "torchain.protocols" -}}
{{- $crd := .Files.Get "crds/torchain.dev_torchains.yaml" | fromYaml -}}
{{- $version := first $crd.spec.versions -}}
{{- toJson $version.schema.openAPIV3Schema.properties.spec.properties.typeNode.enum -}}
{{- end -}}

{{/*
The operator's hop image variables, one per protocol from the one map hop.images.<protocol> (TORCHAIN_IMAGE_<PROTOCOL>),
and the log-exporter's (TORCHAIN_IMAGE_LOG_EXPORTER).
*/}}
{{- define "torchain.hop.imageEnv" -}}
{{- $root := . -}}
{{- range $p := fromJsonArray (include "torchain.protocols" .) }}
{{- $image := required (printf "hop.images.%s is required: the image of %s hops (registry, repository, tag or digest)" $p $p) (index $root.Values.hop.images $p) }}
- name: {{ printf "TORCHAIN_IMAGE_%s" (upper $p) }}
  value: {{ include "torchain.image" (dict "image" $image "root" $root) | quote }}
{{- end }}
- name: TORCHAIN_IMAGE_LOG_EXPORTER
  value: {{ include "torchain.image" (dict "image" .Values.hop.images.logExporter "root" .) | quote }}
{{- end -}}

{{/* An env entry only when the value is set (not null, not ""), so the operator's own default applies otherwise. */}}
{{- define "torchain.optionalEnv" -}}
{{- if and (not (kindIs "invalid" .value)) (ne (toString .value) "") -}}
- name: {{ .name }}
  value: {{ toString .value | quote }}
{{- end -}}
{{- end -}}

{{- define "torchain.imagePullPolicy" -}}
{{- default "IfNotPresent" .Values.global.imagePullPolicy -}}
{{- end -}}

{{- define "torchain.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ if kindIs "map" . }}{{ .name }}{{ else }}{{ . }}{{ end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Labels kube-prometheus-stack selects monitoring objects by, merged with extra labels: pass (dict "root" $ "extra" map). */}}
{{- define "torchain.monitoringLabels" -}}
{{- $labels := merge (dict) (default (dict) .extra) (default (dict) .root.Values.global.monitoring.labels) -}}
{{- with $labels }}
{{- toYaml . }}
{{- end }}
{{- end -}}

{{/* The namespace of a chain entry: pass (dict "chain" $chain "root" $). */}}
{{- define "torchain.chain.namespace" -}}
{{- default (include "torchain.namespace" .root) .chain.namespace -}}
{{- end -}}

{{/* Every namespace that holds a chain, plus operator.rbac.extraNamespaces: a sorted, de-duplicated JSON list. */}}
{{- define "torchain.chainNamespaces" -}}
{{- $root := . -}}
{{- $namespaces := list -}}
{{- range .Values.chains -}}
{{- $namespaces = append $namespaces (include "torchain.chain.namespace" (dict "chain" . "root" $root)) -}}
{{- end -}}
{{- toJson ($namespaces | uniq | sortAlpha) -}}
{{- end -}}

{{- define "torchain.workloadNamespaces" -}}
{{- $namespaces := fromJsonArray (include "torchain.chainNamespaces" .) -}}
{{- $namespaces = concat $namespaces (default (list) .Values.operator.rbac.extraNamespaces) -}}
{{- toJson ($namespaces | uniq | sortAlpha) -}}
{{- end -}}

{{/*
Host bridge names of a chain are <prefix>-<link number>: Linux allows 15 bytes, so the prefix is at most 10
characters (a link number has at most 2 digits). Default: "tc" + 8 hex digits of sha256(<namespace>/<chain>), unique per chain and node.
*/}}
{{- define "torchain.chain.bridgePrefix" -}}
{{- if .chain.bridgePrefix -}}
{{- .chain.bridgePrefix -}}
{{- else -}}
{{- printf "tc%s" (sha256sum (printf "%s/%s" (include "torchain.chain.namespace" .) .chain.name) | trunc 8) -}}
{{- end -}}
{{- end -}}

{{/* The hop Role and RoleBinding name in a chain namespace. */}}
{{- define "torchain.hop.roleName" -}}
{{- printf "%s-hop" (include "torchain.fullname" .) -}}
{{- end -}}

{{/* Labels of hop pods the operator creates (contract: operator/src/core/naming.ts). */}}
{{- define "torchain.hop.podSelector" -}}
app.kubernetes.io/name: torchain-hop
{{- end -}}

{{/*
The topology of one chain as JSON, the one place that decides names, interfaces and addresses; every chain template
renders from it. Pass (dict "chain" $chain "root" $).
Hop k (1 = outermost) has two Multus attachments, named as the operator expects (operator/src/core/naming.ts
defaultNetworkName): `<chain>-hop<k>-out` (toward its VPN server) and `<chain>-hop<k>-in` (where traffic enters).
  - hop 1 out: a bridge CNI attachment on the host bridge that holds the node's external NIC (external.bridge);
    its next hop toward the VPN server (TorChain spec.outGateway) is external.gateway;
  - hop k>1 out and hop k-1 in: the two ends of host bridge <bridgePrefix>-<k-1>, with the /30 number k-1 of
    linkNetwork: hop k-1 holds .4(k-1)+1 (the gateway of that link, hop k's spec.outGateway), hop k holds .4(k-1)+2;
  - hop N in: a macvlan on the LAN's parent interface.
  No inInterface attachment has IPAM: a hop's address there is its TorChain's ipGateWay (TORCHAIN_GATEWAY), which
  the hop entrypoint assigns only once its kill switch holds — the fixed LAN gateway IP (lan.gatewayIP) on hop N, the
  link's .4k+1 on hop k<N. Until then neither LAN clients nor the hop below can reach the hop at all.
*/}}
{{- define "torchain.chain.model" -}}
{{- $c := .chain -}}
{{- $root := .root -}}
{{- $name := required "chains[].name is required: a DNS label of at most 40 characters" $c.name -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$" $name) -}}
{{- fail (printf "chains[].name %q is not a DNS label of at most 40 characters (lower-case letters, digits, '-')" $name) -}}
{{- end -}}
{{- $ns := include "torchain.chain.namespace" . -}}
{{- $hops := $c.hops | default list -}}
{{- $n := len $hops -}}
{{- if lt $n 1 -}}
{{- fail (printf "chain %s/%s has no hops: list at least one under chains[].hops" $ns $name) -}}
{{- end -}}
{{- if gt $n 63 -}}
{{- fail (printf "chain %s/%s has %d hops: at most 63 fit the /30 links of one /24 linkNetwork" $ns $name $n) -}}
{{- end -}}
{{- $node := required (printf "chains[%s].node is required: the node every hop of the chain runs on" $name) $c.node -}}
{{- $lan := required (printf "chains[%s].lan is required: parentInterface and gatewayIP of the LAN entry" $name) $c.lan -}}
{{- $ext := required (printf "chains[%s].external is required: the host bridge to the external network" $name) $c.external -}}
{{- $linkNet := default "10.254.0.0/24" $c.linkNetwork -}}
{{- if not (regexMatch "^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.0/24$" $linkNet) -}}
{{- fail (printf "chains[%s].linkNetwork %q must be an IPv4 /24 such as 10.254.0.0/24" $name $linkNet) -}}
{{- end -}}
{{- $base := regexReplaceAll "\\.0/24$" $linkNet "" -}}
{{- $prefix := include "torchain.chain.bridgePrefix" . -}}
{{- if not (regexMatch "^[a-zA-Z0-9][-a-zA-Z0-9_]{0,9}$" $prefix) -}}
{{- fail (printf "chains[%s].bridgePrefix %q must be 1-10 letters, digits, '-' or '_': a host bridge name is <prefix>-<link number> and Linux allows 15 bytes" $name $prefix) -}}
{{- end -}}
{{- /* The links between hops carry the outer link's packet sizes: the operator computes every tunnel MTU from it. */ -}}
{{- $linkMtu := int $root.Values.operator.linkMtu -}}
{{- $lanIf := default "lan0" $lan.interface -}}
{{- $extIf := default "ext0" $ext.interface -}}
{{- $gw := required (printf "chains[%s].lan.gatewayIP is required: the fixed gateway IP LAN clients use, with its prefix (192.168.50.1/24)" $name) $lan.gatewayIP -}}
{{- $parent := required (printf "chains[%s].lan.parentInterface is required: the node's NIC on the LAN" $name) $lan.parentInterface -}}
{{- $extBridge := required (printf "chains[%s].external.bridge is required: the host bridge that holds the node's external NIC" $name) $ext.bridge -}}
{{- $extIpam := dict -}}
{{- if $ext.ipam -}}
{{- $extIpam = $ext.ipam -}}
{{- else -}}
{{- $addr := required (printf "chains[%s].external.address is required (or set external.ipam): hop 1's address on the external network" $name) $ext.address -}}
{{- $entry := dict "address" $addr -}}
{{- if $ext.gateway }}{{ $_ := set $entry "gateway" $ext.gateway }}{{ end -}}
{{- $extIpam = dict "type" "static" "addresses" (list $entry) -}}
{{- end -}}
{{- $out := list -}}
{{- range $i, $h := $hops -}}
{{- $k := add1 $i -}}
{{- $protocols := fromJsonArray (include "torchain.protocols" $root) -}}
{{- if not (has $h.type $protocols) -}}
{{- fail (printf "chains[%s].hops[%d].type is %q: use one of %s" $name $i (toString $h.type) (join ", " $protocols)) -}}
{{- end -}}
{{- if hasKey $h "switchServer" -}}
{{- fail (printf "chains[%s].hops[%d].switchServer cannot be set from values: the operator moves it on every failover and `helm upgrade` would reset it" $name $i) -}}
{{- end -}}
{{- $hop := dict "k" $k "name" (printf "%s-hop-%d" $name $k) "type" $h.type -}}
{{- $hopSpec := dict -}}
{{- range $field := list "vpnFileConfig" "tmpDir" "image" "mtu" "poolPath" "drop" -}}
{{- if hasKey $h $field }}{{ $_ := set $hopSpec $field (index $h $field) }}{{ end -}}
{{- end -}}
{{- $_ := set $hop "overrides" $hopSpec -}}
{{- /* toward the server */ -}}
{{- if eq $k 1 -}}
{{- $_ := set $hop "outInterface" $extIf -}}
{{- with $ext.gateway }}{{ $_ := set $hop "outGateway" . }}{{ end -}}
{{- $_ := set $hop "outConfig" (dict "cniVersion" "0.3.1" "name" (printf "%s-hop%d-out" $name $k) "type" "bridge" "bridge" $extBridge "ipam" $extIpam) -}}
{{- else -}}
{{- $link := sub $k 1 -}}
{{- $_ := set $hop "outInterface" "up0" -}}
{{- $addr := dict "address" (printf "%s.%d/30" $base (add (mul 4 $link) 2)) "gateway" (printf "%s.%d" $base (add (mul 4 $link) 1)) -}}
{{- $_ := set $hop "outGateway" (printf "%s.%d" $base (add (mul 4 $link) 1)) -}}
{{- $_ := set $hop "outConfig" (dict "cniVersion" "0.3.1" "name" (printf "%s-hop%d-out" $name $k) "type" "bridge" "bridge" (printf "%s-%d" $prefix $link) "mtu" $linkMtu "ipam" (dict "type" "static" "addresses" (list $addr))) -}}
{{- end -}}
{{- /* where traffic enters */ -}}
{{- if eq $k $n -}}
{{- $_ := set $hop "inInterface" $lanIf -}}
{{- $_ := set $hop "ipGateWay" $gw -}}
{{- /* DNS for the LAN: the last hop answers on the gateway IP and forwards through the chain (on unless disabled). */ -}}
{{- $dns := $c.dns | default dict -}}
{{- if or (not (hasKey $dns "enabled")) $dns.enabled -}}
{{- $_ := set $hop "dns" (dict "servers" ($dns.servers | default list)) -}}
{{- end -}}
{{- $_ := set $hop "inConfig" (dict "cniVersion" "0.3.1" "name" (printf "%s-hop%d-in" $name $k) "type" "macvlan" "master" $parent "mode" (default "bridge" $lan.mode) "ipam" (dict)) -}}
{{- else -}}
{{- $_ := set $hop "inInterface" "down0" -}}
{{- $_ := set $hop "ipGateWay" (printf "%s.%d/30" $base (add (mul 4 $k) 1)) -}}
{{- $_ := set $hop "inConfig" (dict "cniVersion" "0.3.1" "name" (printf "%s-hop%d-in" $name $k) "type" "bridge" "bridge" (printf "%s-%d" $prefix $k) "mtu" $linkMtu "ipam" (dict)) -}}
{{- end -}}
{{- $out = append $out $hop -}}
{{- end -}}
{{- toJson (dict "name" $name "namespace" $ns "node" $node "hops" $out "lanParent" $parent "lanNetAttach" (printf "%s-hop%d-in" $name $n) "extNetAttach" (printf "%s-hop1-out" $name) "lastHop" $n) -}}
{{- end -}}

{{/* Egress peers of DNS (both protocols). */}}
{{- define "torchain.netpol.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podLabels | nindent 10 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}

{{/*
Egress to the API server. NetworkPolicy cannot name the API server; after the Service's DNAT the traffic goes to the
endpoint addresses of Service default/kubernetes, so those are allowed: networkPolicy.apiServer.cidrs, or else looked
up at install time. Without a cluster to ask (helm template), any address on the API server ports.
*/}}
{{- define "torchain.netpol.apiServerEgress" -}}
{{- $cidrs := .Values.networkPolicy.apiServer.cidrs | default list -}}
{{- $ports := .Values.networkPolicy.apiServer.ports | default list -}}
{{- if not $cidrs -}}
{{- $ep := lookup "v1" "Endpoints" "default" "kubernetes" -}}
{{- if $ep -}}
{{- range $subset := $ep.subsets | default list -}}
{{- range $subset.addresses | default list -}}
{{- $cidrs = append $cidrs (ternary (printf "%s/128" .ip) (printf "%s/32" .ip) (contains ":" .ip)) -}}
{{- end -}}
{{- range $subset.ports | default list -}}
{{- $ports = append $ports .port -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $cidrs -}}
{{- $cidrs = list "0.0.0.0/0" "::/0" -}}
{{- end -}}
- to:
    {{- range $cidrs | uniq }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    {{- range $ports | uniq }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
{{- end -}}

{{/* A peer in kube-prometheus-stack's namespace with the given pod labels: pass (dict "root" $ "podLabels" map). */}}
{{- define "torchain.netpol.monitoringPeer" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ .root.Values.global.monitoring.namespace }}
  podSelector:
    matchLabels:
      {{- toYaml .podLabels | nindent 6 }}
{{- end -}}

{{/* The `helm test` pod, in the release namespace. */}}
{{- define "torchain.netpol.testPeer" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ include "torchain.namespace" . }}
  podSelector:
    matchLabels:
      {{- include "torchain.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: test
{{- end -}}
