{{/*
Base name of every object: the release name, or "<release>-thumbnailer" when
the release name does not contain the chart name. Cut at 63 characters, the
limit of a DNS label and of a label value.
*/}}
{{- define "thumbnailer.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Name of an object that needs a suffix: "<fullname>-<suffix>", with the base
cut so that the whole still fits in 63 characters. Call with
(dict "root" $ "suffix" "runner").
*/}}
{{- define "thumbnailer.suffixedName" -}}
{{- $base := include "thumbnailer.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-" -}}
{{- printf "%s-%s" $base .suffix -}}
{{- end -}}

{{- define "thumbnailer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels. app.kubernetes.io/name is always the chart name because the
API selects its Jobs and runner pods by it; fullnameOverride renames objects
only.
*/}}
{{- define "thumbnailer.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Labels of every object the chart owns. */}}
{{- define "thumbnailer.labels" -}}
app: {{ .Chart.Name }}
{{ include "thumbnailer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: {{ .Chart.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "thumbnailer.chart" . }}
{{- end -}}

{{/*
Labels of the runner Job template. The API creates these Jobs, not Helm, so
they carry no managed-by or chart label.
*/}}
{{- define "thumbnailer.runnerLabels" -}}
app: {{ .Chart.Name }}
{{ include "thumbnailer.selectorLabels" . }}
app.kubernetes.io/component: runner
{{- end -}}

{{- define "thumbnailer.apiSelectorLabels" -}}
{{ include "thumbnailer.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end -}}

{{- define "thumbnailer.apiServiceAccountName" -}}
{{- include "thumbnailer.suffixedName" (dict "root" . "suffix" "api") -}}
{{- end -}}

{{- define "thumbnailer.runnerServiceAccountName" -}}
{{- include "thumbnailer.suffixedName" (dict "root" . "suffix" "runner") -}}
{{- end -}}

{{- define "thumbnailer.runnerJobTemplateName" -}}
{{- include "thumbnailer.suffixedName" (dict "root" . "suffix" "runner-job") -}}
{{- end -}}

{{- define "thumbnailer.claimName" -}}
{{- if .Values.persistence.existingClaim -}}
{{- .Values.persistence.existingClaim -}}
{{- else -}}
{{- include "thumbnailer.suffixedName" (dict "root" . "suffix" "data") -}}
{{- end -}}
{{- end -}}

{{/* Image reference: [<registry>/]<repository>:<tag>. Call with (dict "root" $ "repository" "..."). */}}
{{- define "thumbnailer.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "thumbnailer.readWriteOnce" -}}
{{- if eq .Values.persistence.accessMode "ReadWriteOnce" -}}true{{- end -}}
{{- end -}}

{{/*
Pod security context shared by the API, the runner and the test pod: the
images' numeric user, and the settings the Pod Security Standard
"restricted" asks for.
*/}}
{{- define "thumbnailer.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "thumbnailer.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}
