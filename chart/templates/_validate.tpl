{{/*
Checks across values that values.schema.json cannot express. Each failure
names the value and the fix.
*/}}
{{- define "thumbnailer.validate" -}}
{{- $replicas := int .Values.api.replicaCount -}}
{{- if and (include "thumbnailer.readWriteOnce" .) (gt $replicas 1) -}}
{{- fail (printf "api.replicaCount is %d but persistence.accessMode is ReadWriteOnce, which only one node can mount: set api.replicaCount=1, or use a ReadWriteMany storage class and set persistence.accessMode=ReadWriteMany" $replicas) -}}
{{- end -}}
{{- end -}}
