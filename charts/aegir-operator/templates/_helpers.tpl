{{/* Names: `<release>-<chart>` cut to 63 characters, or the release name when it already has the chart's. */}}
{{- define "aegir-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aegir-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Component names leave room for the suffix within 63 characters. */}}
{{- define "aegir-operator.controller.fullname" -}}
{{- printf "%s-controller" (include "aegir-operator.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "aegir-operator.webhook.fullname" -}}
{{- printf "%s-webhook" (include "aegir-operator.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "aegir-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aegir-operator.labels" -}}
helm.sh/chart: {{ include "aegir-operator.chart" . }}
app.kubernetes.io/name: {{ include "aegir-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aegir-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (list $ "controller"). */}}
{{- define "aegir-operator.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "aegir-operator.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "aegir-operator.componentLabels" -}}
{{ include "aegir-operator.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "aegir-operator.controller.serviceAccountName" -}}
{{- include "aegir-operator.controller.fullname" . }}
{{- end }}

{{- define "aegir-operator.webhook.serviceAccountName" -}}
{{- include "aegir-operator.webhook.fullname" . }}
{{- end }}

{{- define "aegir-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "aegir-operator.leaseName" -}}
{{- default (printf "%s.hosting.openatria.com" (include "aegir-operator.fullname" .)) .Values.controller.leaderElection.leaseName }}
{{- end }}

{{- define "aegir-operator.hostedSiteNamespace" -}}
{{- default (first .Values.customerNamespaces) .Values.webhook.hostedSiteNamespace }}
{{- end }}

{{/* The webhook's catalog: the values' catalog, else the built-in one (a copy of webhook/default-catalog.yaml). */}}
{{- define "aegir-operator.catalog" -}}
{{- if .Values.webhook.catalog }}
{{- toYaml .Values.webhook.catalog }}
{{- else }}
{{- .Files.Get "files/default-catalog.yaml" }}
{{- end }}
{{- end }}

{{/*
The rules of one object of rbac.yaml, the single source of the operator's RBAC (the end-to-end
tests check every API request against it): (list $ "ClusterRole" "aegir-operator-controller").
*/}}
{{- define "aegir-operator.rbacRules" -}}
{{- $root := index . 0 }}
{{- $kind := index . 1 }}
{{- $name := index . 2 }}
{{- $found := dict }}
{{- range regexSplit "(?m)^---[ \\t]*$" ($root.Files.Get "rbac.yaml") -1 }}
{{- $doc := fromYaml . }}
{{- if and (eq (toString (get $doc "kind")) $kind) (eq (toString (dig "metadata" "name" "" $doc)) $name) }}
{{- $_ := set $found "rules" (get $doc "rules") }}
{{- end }}
{{- end }}
{{- if not (hasKey $found "rules") }}
{{- fail (printf "rbac.yaml has no %s %s" $kind $name) }}
{{- end }}
{{- toYaml $found.rules }}
{{- end }}

{{/* Hardened pod and container security contexts, the same for both components. */}}
{{- define "aegir-operator.podSecurityContext" -}}
runAsNonRoot: true
{{- range $key := list "runAsUser" "runAsGroup" "fsGroup" }}
{{- $value := index $.Values.podSecurityContext $key }}
{{- if not (kindIs "invalid" $value) }}
{{ $key }}: {{ $value }}
{{- end }}
{{- end }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "aegir-operator.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* A NetworkPolicy egress rule: (list $ports $to $protocols). */}}
{{- define "aegir-operator.egressRule" -}}
{{- $ports := index . 0 }}
{{- $to := index . 1 }}
{{- $protocols := index . 2 -}}
- ports:
  {{- range $port := $ports }}
  {{- range $protocol := $protocols }}
    - protocol: {{ $protocol }}
      port: {{ $port }}
  {{- end }}
  {{- end }}
  {{- with $to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* Prometheus label matchers of a component's series, as the ServiceMonitors' job labels make them. */}}
{{- define "aegir-operator.controller.selector" -}}
job="{{ include "aegir-operator.controller.fullname" . }}", namespace="{{ .Release.Namespace }}"
{{- end }}

{{- define "aegir-operator.webhook.selector" -}}
job="{{ include "aegir-operator.webhook.fullname" . }}", namespace="{{ .Release.Namespace }}"
{{- end }}

{{/* Soft anti-affinity between a component's replicas when no affinity is given: (list $ "controller" .affinity). */}}
{{- define "aegir-operator.affinity" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $affinity := index . 2 }}
{{- if $affinity }}
{{- toYaml $affinity }}
{{- else -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "aegir-operator.selectorLabels" (list $root $component) | nindent 12 }}
{{- end }}
{{- end }}

{{/* Checks that render nothing but stop an install that cannot work. */}}
{{- define "aegir-operator.validate" -}}
{{- if and (gt (int .Values.controller.replicas) 1) (not .Values.controller.leaderElection.enabled) }}
{{- fail "controller.replicas > 1 needs controller.leaderElection.enabled: several replicas without a leader would all drive Aegir" }}
{{- end }}
{{- if .Values.webhook.enabled }}
{{- if not (has (include "aegir-operator.hostedSiteNamespace" .) .Values.customerNamespaces) }}
{{- fail (printf "webhook.hostedSiteNamespace %q must be one of customerNamespaces: the webhook's Role is only there" (include "aegir-operator.hostedSiteNamespace" .)) }}
{{- end }}
{{- if and .Values.webhook.ingress.enabled (not .Values.webhook.ingress.host) }}
{{- fail "webhook.ingress.host is required when webhook.ingress.enabled" }}
{{- end }}
{{- if and .Values.webhook.storefront.enabled (not .Values.webhook.ingress.enabled) (not .Values.webhook.storefront.url) }}
{{- fail "webhook.storefront.url is required when the storefront is on without the chart's Ingress: Stripe sends customers back there" }}
{{- end }}
{{- end }}
{{- if eq .Values.controller.metricsPort .Values.controller.healthProbePort }}
{{- fail "controller.metricsPort and controller.healthProbePort must differ" }}
{{- end }}
{{- end }}

{{/* The storefront's public address: its own setting, else the Ingress host. */}}
{{- define "aegir-operator.storefrontUrl" -}}
{{- $i := .Values.webhook.ingress }}
{{- default (printf "%s://%s" (ternary "https" "http" $i.tls.enabled) $i.host) .Values.webhook.storefront.url }}
{{- end }}

{{/* Whose X-Forwarded-For the webhook believes: the setting, else the chart's Ingress (one hop) or nobody. */}}
{{- define "aegir-operator.trustProxy" -}}
{{- default (ternary "1" "false" .Values.webhook.ingress.enabled) .Values.webhook.storefront.trustProxy }}
{{- end }}
