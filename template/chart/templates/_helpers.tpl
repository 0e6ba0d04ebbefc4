{% raw %}{{/*
Names, labels and derived values shared by the chart's templates. Helm's template names are
global to a release: two charts made from the same template share these definitions, which read
only the chart and release they are given.
*/}}

{{/* The name of every object: "<release>-<chart>", or the release name when it holds the chart's. */}}
{{- define "service.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The labels that select the release's pods; never change them (selectors are immutable). */}}
{{- define "service.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. backstage.io/kubernetes-id is how Backstage's Kubernetes plugin
finds the objects of the catalog entry (catalog-info.yaml). */}}
{{- define "service.labels" -}}
helm.sh/chart: {{ regexReplaceAll "[-_.]+$" (printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63) "" }}
{{ include "service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
backstage.io/kubernetes-id: {{ .Chart.Name }}
{{- end -}}

{{- define "service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "service.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image by digest when one is given, else by tag (the chart's appVersion by default). */}}
{{- define "service.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The pull policy: as set, else IfNotPresent for a digest and Always for a (movable) tag. */}}
{{- define "service.imagePullPolicy" -}}
{{- .Values.image.pullPolicy | default (ternary "IfNotPresent" "Always" (not (empty .Values.image.digest))) -}}
{{- end -}}

{{/* Seconds from the start of termination to SIGKILL: the preStop sleep, the service's drain
and deadline after SIGTERM, and a margin (values.yaml, shutdown). */}}
{{- define "service.terminationGracePeriodSeconds" -}}
{{- with .Values.shutdown -}}
{{- add .preStopSleepSeconds .drainSeconds .timeoutSeconds .marginSeconds -}}
{{- end -}}
{{- end -}}

{{/* The TCP port of upstream.url: the one it names, else 443 for https and 80 for http. */}}
{{- define "service.upstreamPort" -}}
{{- with .Values.upstream.url -}}
{{- $url := urlParse . -}}
{{- $named := regexFind ":[0-9]+$" $url.host | trimPrefix ":" -}}
{{- $named | default (ternary "443" "80" (eq $url.scheme "https")) -}}
{{- end -}}
{{- end -}}

{{/* Where the extra CA bundle is mounted, and the file APP_EXTRA_CA_FILE names. */}}
{{- define "service.extraCAFile" -}}
/etc/extra-ca/ca.pem
{{- end -}}{% endraw %}
