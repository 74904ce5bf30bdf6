{{/*
Runner Job template: the batch/v1 Job that the API copies for every upload.
The API sets metadata.name and metadata.namespace, adds its labels to
metadata.labels and spec.template.metadata.labels, sets the subPath of the
"data" volumeMount to jobs/<id>, sets spec.suspend, and appends --fit=<value>
to the runner's args. Everything else an operator controls is here.
*/}}
{{- define "thumbnailer.runnerJob" -}}
{{- $runner := .Values.runner -}}
{{- $jobs := .Values.jobs -}}
apiVersion: batch/v1
kind: Job
metadata:
  labels:
    {{- include "thumbnailer.runnerLabels" . | nindent 4 }}
spec:
  backoffLimit: {{ int $jobs.backoffLimit }}
  activeDeadlineSeconds: {{ int $jobs.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ int $jobs.ttlSecondsAfterFinished }}
  podFailurePolicy:
    rules:
      # Exit code 2 means the runner rejected the input for good, so a retry
      # would fail the same way.
      - action: FailJob
        onExitCodes:
          containerName: runner
          operator: In
          values: [2]
      # A drained node or a preemption is not the runner's fault and does
      # not count towards backoffLimit.
      - action: Ignore
        onPodConditions:
          - type: DisruptionTarget
  template:
    metadata:
      labels:
        {{- include "thumbnailer.runnerLabels" . | nindent 8 }}
      {{- with $runner.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ include "thumbnailer.runnerServiceAccountName" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        {{- include "thumbnailer.podSecurityContext" . | nindent 8 }}
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $runner.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $runner.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $runner.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with (include "thumbnailer.runnerAffinity" . | fromYaml) }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: runner
          image: {{ include "thumbnailer.image" (dict "root" . "repository" .Values.image.runner.repository) | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args:
            - --input=/job/original
            - --output=/job/thumbnail
            - --result=/job/result.json
            - --size={{ int .Values.thumbnail.size }}
            - --max-pixels={{ int64 .Values.limits.maxPixels }}
            - --max-frames={{ int .Values.limits.maxFrames }}
          securityContext:
            {{- include "thumbnailer.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml $runner.resources | nindent 12 }}
          terminationMessagePolicy: FallbackToLogsOnError
          volumeMounts:
            - name: data
              mountPath: /job
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: {{ include "thumbnailer.claimName" . }}
        - name: tmp
          emptyDir: {}
{{- end -}}

{{/*
Affinity of the runner pods: runner.affinity, plus, with ReadWriteOnce
storage, a required podAffinity to the API pod's node, because a
ReadWriteOnce volume attaches to one node only.
*/}}
{{- define "thumbnailer.runnerAffinity" -}}
{{- $affinity := deepCopy (.Values.runner.affinity | default dict) -}}
{{- if include "thumbnailer.readWriteOnce" . -}}
{{- $podAffinity := get $affinity "podAffinity" | default dict -}}
{{- $required := get $podAffinity "requiredDuringSchedulingIgnoredDuringExecution" | default list -}}
{{- $apiPods := dict "matchLabels" (include "thumbnailer.apiSelectorLabels" . | fromYaml) -}}
{{- $required = append $required (dict "labelSelector" $apiPods "topologyKey" "kubernetes.io/hostname") -}}
{{- $_ := set $podAffinity "requiredDuringSchedulingIgnoredDuringExecution" $required -}}
{{- $_ := set $affinity "podAffinity" $podAffinity -}}
{{- end -}}
{{- if $affinity -}}
{{- toYaml $affinity -}}
{{- end -}}
{{- end -}}
