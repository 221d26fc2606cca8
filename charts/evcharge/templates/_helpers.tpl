{{- define "evcharge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "evcharge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "evcharge.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "evcharge.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "evcharge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "evcharge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: evcharge
{{- end -}}

{{/* selector labels; call with (dict "root" $ "component" "web") */}}
{{- define "evcharge.selector" -}}
app.kubernetes.io/name: {{ include "evcharge.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "evcharge.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "evcharge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "evcharge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* the bundled services run only when enabled and no external URL (nor existing secret) is given */}}
{{- define "evcharge.bundledPostgres" -}}
{{- if and .Values.postgresql.enabled (not .Values.secrets.databaseUrl) (not .Values.secrets.existingSecret) -}}true{{- end -}}
{{- end -}}
{{- define "evcharge.bundledRabbitmq" -}}
{{- if and .Values.rabbitmq.enabled (not .Values.secrets.brokerUrl) (not .Values.secrets.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "evcharge.bundledRedis" -}}
{{- if and .Values.redis.enabled (not .Values.secrets.cacheUrl) (not .Values.secrets.existingSecret) -}}true{{- end -}}
{{- end -}}

{{/* empty when the existing Secret holds CACHE_URL (or none is configured: each pod then keeps its own) */}}
{{- define "evcharge.cacheUrl" -}}
{{- if .Values.secrets.cacheUrl -}}
{{- .Values.secrets.cacheUrl -}}
{{- else if include "evcharge.bundledRedis" . -}}
{{- printf "rediscache://%s-redis:6379/0" (include "evcharge.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "evcharge.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "evcharge.fullname" .) -}}
{{- end -}}

{{- define "evcharge.databaseUrl" -}}
{{- if .Values.secrets.databaseUrl -}}
{{- .Values.secrets.databaseUrl -}}
{{- else if include "evcharge.bundledPostgres" . -}}
{{- with .Values.postgresql -}}
{{- printf "postgres://%s:%s@%s-postgresql:5432/%s" .username .password (include "evcharge.fullname" $) .database -}}
{{- end -}}
{{- else -}}
{{- fail "secrets.databaseUrl (or secrets.existingSecret, or postgresql.enabled) is required" -}}
{{- end -}}
{{- end -}}

{{- define "evcharge.brokerUrl" -}}
{{- if .Values.secrets.brokerUrl -}}
{{- .Values.secrets.brokerUrl -}}
{{- else if include "evcharge.bundledRabbitmq" . -}}
{{- with .Values.rabbitmq -}}
{{- printf "amqp://%s:%s@%s-rabbitmq:5672/%s" .username .password (include "evcharge.fullname" $) .vhost -}}
{{- end -}}
{{- else -}}
{{- fail "secrets.brokerUrl (or secrets.existingSecret, or rabbitmq.enabled) is required" -}}
{{- end -}}
{{- end -}}

{{- define "evcharge.secretKey" -}}
{{- if .Values.secrets.secretKey -}}
{{- .Values.secrets.secretKey -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "evcharge.fullname" .) -}}
{{- if and $existing (index $existing.data "SECRET_KEY") -}}
{{- index $existing.data "SECRET_KEY" | b64dec -}}
{{- else if include "evcharge.bundledPostgres" . -}}
{{- randAlphaNum 64 -}}
{{- else -}}
{{- fail "secrets.secretKey (or secrets.existingSecret) is required outside dev" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* settings as a ConfigMap's data */}}
{{- define "evcharge.configData" -}}
{{- $config := deepCopy .Values.config -}}
{{- if not (hasKey $config "ALLOWED_HOSTS") -}}
{{- $hosts := list "localhost" "127.0.0.1" (printf "%s-web" (include "evcharge.fullname" .)) -}}
{{- if .Values.ingress.enabled -}}{{- range .Values.ingress.hosts -}}{{- $hosts = append $hosts .host -}}{{- end -}}{{- end -}}
{{- $_ := set $config "ALLOWED_HOSTS" (join "," $hosts) -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not (hasKey $config "NUM_PROXIES")) -}}
{{- $_ := set $config "NUM_PROXIES" "1" -}}
{{- end -}}
{{- range $key, $value := $config }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* the Secret's stringData */}}
{{- define "evcharge.secretData" -}}
SECRET_KEY: {{ include "evcharge.secretKey" . | quote }}
DATABASE_URL: {{ include "evcharge.databaseUrl" . | quote }}
CELERY_BROKER_URL: {{ include "evcharge.brokerUrl" . | quote }}
{{- with include "evcharge.cacheUrl" . }}
CACHE_URL: {{ . | quote }}
{{- end }}
{{- with .Values.secrets.jwtSigningKey }}
JWT_SIGNING_KEY: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* pod-level pieces every process shares; call with (dict "root" $ "envFrom" name) */}}
{{- define "evcharge.envFrom" -}}
- configMapRef:
    name: {{ .configMap }}
- secretRef:
    name: {{ .secret }}
{{- end -}}

{{- define "evcharge.podSpecCommon" -}}
serviceAccountName: {{ include "evcharge.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpVolumeSizeLimit }}
{{- end -}}

{{- define "evcharge.containerCommon" -}}
image: {{ include "evcharge.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}
