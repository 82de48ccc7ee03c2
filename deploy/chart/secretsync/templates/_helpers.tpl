{{/* Names and labels every template shares (the observability templates use them too). */}}

{{- define "secretsync.name" -}}
secretsync
{{- end }}

{{/* The release name alone when it already says secretsync, so `helm install secretsync`
gives the same names as deploy/ (kubectl apply -k). */}}
{{- define "secretsync.fullname" -}}
{{- if contains "secretsync" .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-secretsync" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "secretsync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "secretsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "secretsync.labels" -}}
{{ include "secretsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "secretsync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "secretsync.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "secretsync.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "secretsync.webhookSecretName" -}}
{{- default (printf "%s-webhook" (include "secretsync.fullname" .)) .Values.webhook.tokenSecret.name }}
{{- end }}

{{/* Checks that stop a broken install before anything reaches the cluster. */}}
{{- define "secretsync.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "leaderElection.enabled=false with replicas > 1: every replica would write the same Secrets; set replicas: 1 or turn leader election on" }}
{{- end }}
{{- if and (eq .Values.rbac.scope "namespaced") (empty .Values.namespaces) }}
{{- fail "rbac.scope=namespaced needs the namespaces to watch: set namespaces: [team-a, ...] (Roles are made only there)" }}
{{- end }}
{{- if not (has .Values.rbac.scope (list "cluster" "namespaced")) }}
{{- fail (printf "rbac.scope=%s: use cluster or namespaced" .Values.rbac.scope) }}
{{- end }}
{{- end }}
