{{/* Names */}}
{{- define "mmss.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name; short enough that "-postgresql" etc. still fit in 63 characters. */}}
{{- define "mmss.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mmss.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource; include with (dict "root" $ "component" "silo"). */}}
{{- define "mmss.labels" -}}
helm.sh/chart: {{ include "mmss.chart" .root }}
{{ include "mmss.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: mmss
{{- end }}

{{- define "mmss.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mmss.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Orleans cluster identity */}}
{{- define "mmss.clusterId" -}}
{{- default (include "mmss.fullname" .) .Values.cluster.clusterId }}
{{- end }}

{{- define "mmss.serviceId" -}}
{{- default (include "mmss.fullname" .) .Values.cluster.serviceId }}
{{- end }}

{{/* Image reference; include with (dict "root" $ "image" .Values.silo.image). */}}
{{- define "mmss.image" -}}
{{- $registry := .root.Values.image.registry | trimSuffix "/" }}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if $registry }}
{{- printf "%s/%s:%s" $registry .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{- define "mmss.siloServiceAccountName" -}}
{{- if .Values.silo.serviceAccount.create }}
{{- default (printf "%s-silo" (include "mmss.fullname" .)) .Values.silo.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.silo.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Where the secrets come from. The chart's own Secret is "<fullname>" and holds what no existing Secret provides. */}}
{{- define "mmss.secretName" -}}
{{- include "mmss.fullname" . }}
{{- end }}

{{- define "mmss.trialPostgresqlName" -}}
{{- printf "%s-postgresql" (include "mmss.fullname" .) }}
{{- end }}

{{- define "mmss.trialMinioName" -}}
{{- printf "%s-minio" (include "mmss.fullname" .) }}
{{- end }}

{{- define "mmss.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "mmss.fullname" .)) .Values.tls.existingSecret }}
{{- end }}

{{/* The chart's Secret is needed unless every secret value comes from elsewhere. */}}
{{- define "mmss.ownSecretNeeded" -}}
{{- $pg := and (not .Values.postgresql.existingSecret) (not .Values.trial.postgresql.enabled) }}
{{- $admin := not .Values.admin.existingSecret }}
{{- $s3 := and (eq .Values.attachments.store "S3") (not .Values.attachments.s3.existingSecret) (not .Values.trial.minio.enabled) }}
{{- $relay := and .Values.relay.enabled (not .Values.relay.existingSecret) }}
{{- if or $pg $admin $s3 $relay }}true{{ end }}
{{- end }}

{{/*
The connection string's environment: Mmss__Cluster__ConnectionString from the chart's Secret, an existing Secret, or
(trial PostgreSQL) composed with the password the kubelet expands from the variable before it.
Include with (dict "root" $ "secretName" NAME): NAME is the Secret holding the "connection-string" key when neither an
existing Secret nor the trial database is used.
*/}}
{{- define "mmss.connectionStringEnv" -}}
{{- $v := .root.Values }}
{{- if $v.trial.postgresql.enabled }}
- name: MMSS_POSTGRESQL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "mmss.trialPostgresqlName" .root }}
      key: password
- name: Mmss__Cluster__ConnectionString
  value: {{ printf "Host=%s;Port=5432;Database=%s;Username=%s;Password=$(MMSS_POSTGRESQL_PASSWORD)" (include "mmss.trialPostgresqlName" .root) $v.trial.postgresql.database $v.trial.postgresql.username | quote }}
{{- else if $v.postgresql.existingSecret }}
- name: Mmss__Cluster__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ $v.postgresql.existingSecret }}
      key: {{ $v.postgresql.existingSecretKey }}
{{- else }}
- name: Mmss__Cluster__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: connection-string
{{- end }}
{{- end }}

{{/* A value kept across upgrades: the existing Secret's, else the given one, else a random one. */}}
{{- define "mmss.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if .value }}
{{- .value }}
{{- else if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum 40 }}
{{- end }}
{{- end }}

{{/* The domains the gateways serve. */}}
{{- define "mmss.domains" -}}
{{- $domains := .Values.domains }}
{{- if and (not $domains) .Values.gateway.service.loadBalancerIP }}
{{- $domains = list .Values.gateway.service.loadBalancerIP }}
{{- end }}
{{- toJson $domains }}
{{- end }}

{{- define "mmss.gatewayTerminationGracePeriodSeconds" -}}
{{- if .Values.gateway.terminationGracePeriodSeconds }}
{{- .Values.gateway.terminationGracePeriodSeconds }}
{{- else }}
{{- add .Values.gateway.drainDelaySeconds 45 .Values.gateway.preStopSleepSeconds }}
{{- end }}
{{- end }}

{{/* Soft spread over nodes; include with (dict "root" $ "component" "silo"). */}}
{{- define "mmss.spread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "mmss.selectorLabels" . | nindent 8 }}
{{- end }}

{{/* Checks that values.schema.json cannot express. */}}
{{- define "mmss.validate" -}}
{{- $v := .Values }}
{{- if and (eq $v.attachments.store "Local") (not $v.attachments.local.existingClaim) (or $v.gateway.autoscaling.enabled (gt (int $v.gateway.replicaCount) 1)) }}
{{- fail "attachments.store Local needs attachments.local.existingClaim (a ReadWriteMany volume) when there can be more than one gateway: each gateway would see only its own uploads" }}
{{- end }}
{{- if and (eq $v.attachments.store "Local") $v.trial.minio.enabled }}
{{- fail "trial.minio.enabled needs attachments.store S3" }}
{{- end }}
{{- if and $v.trial.postgresql.enabled (or $v.postgresql.connectionString $v.postgresql.existingSecret) }}
{{- fail "trial.postgresql.enabled and postgresql.connectionString / existingSecret exclude each other" }}
{{- end }}
{{- if and $v.postgresql.connectionString $v.postgresql.existingSecret }}
{{- fail "postgresql.connectionString and postgresql.existingSecret exclude each other" }}
{{- end }}
{{- if or (and $v.tls.certificate (not $v.tls.key)) (and $v.tls.key (not $v.tls.certificate)) }}
{{- fail "tls.certificate and tls.key go together" }}
{{- end }}
{{- if and $v.tls.existingSecret $v.tls.certificate }}
{{- fail "tls.certificate / key and tls.existingSecret exclude each other" }}
{{- end }}
{{- if and $v.gateway.terminationGracePeriodSeconds (lt (int $v.gateway.terminationGracePeriodSeconds) (int (add $v.gateway.drainDelaySeconds 30 $v.gateway.preStopSleepSeconds))) }}
{{- fail "gateway.terminationGracePeriodSeconds must be at least gateway.drainDelaySeconds + preStopSleepSeconds + 30: the gateway's stop takes up to that long" }}
{{- end }}
{{- if gt (int $v.gateway.autoscaling.minReplicas) (int $v.gateway.autoscaling.maxReplicas) }}
{{- fail "gateway.autoscaling.minReplicas must not exceed maxReplicas" }}
{{- end }}
{{- $ports := list (int $v.gateway.ports.xmpp) (int $v.gateway.ports.xmppTls) (int $v.gateway.ports.http) }}
{{- if ne (len (uniq $ports)) 3 }}
{{- fail "gateway.ports must be three different ports" }}
{{- end }}
{{- if and $v.metrics.enabled (has (int $v.metrics.gatewayPort) $ports) }}
{{- fail "metrics.gatewayPort must differ from gateway.ports" }}
{{- end }}
{{- if and $v.mqtt.enabled (not $v.mqtt.server) }}
{{- fail "mqtt.enabled needs mqtt.server (host:port of the broker the silos publish to)" }}
{{- end }}
{{- if $v.relay.enabled }}
{{- if has (int $v.relay.port) $ports }}
{{- fail "relay.port must differ from gateway.ports" }}
{{- end }}
{{- range $i, $peer := $v.relay.peers }}
{{- if and (not $v.relay.existingSecret) (not $peer.secret) }}
{{- fail (printf "relay.peers[%d] (%s) needs a secret, or relay.existingSecret holding it under its secretKey" $i $peer.domain) }}
{{- end }}
{{- end }}
{{- else if $v.relay.peers }}
{{- fail "relay.peers need relay.enabled: the links to peers run over the server-to-server listener" }}
{{- end }}
{{- $siloPorts := list (int $v.silo.ports.silo) (int $v.silo.ports.gateway) (int $v.silo.ports.health) }}
{{- if ne (len (uniq $siloPorts)) 3 }}
{{- fail "silo.ports must be three different ports" }}
{{- end }}
{{- end }}

{{/* A settings value as the configuration reads it: whole numbers without exponent, booleans lower-case. */}}
{{- define "mmss.settingValue" -}}
{{- if kindIs "float64" . }}
{{- if eq . (floor .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else }}
{{- . | toString }}
{{- end }}
{{- end }}

{{/*
The relay's settings every pod shares (how often the peer directory is polled, each configured peer without its secret), merged into the
dict given as "data". Include with (dict "root" $ "data" $data).
*/}}
{{- define "mmss.relaySettings" -}}
{{- $r := .root.Values.relay }}
{{- if $r.enabled }}
{{- $_ := set .data "Mmss__Relay__PeerRefreshSeconds" (int64 $r.peerRefreshSeconds | toString) }}
{{- range $i, $peer := $r.peers }}
{{- $_ := set $.data (printf "Mmss__Peers__%d__Domain" $i) $peer.domain }}
{{- range $field := list "address" "httpAddress" "udns" "gdns" }}
{{- with index $peer $field }}
{{- $_ := set $.data (printf "Mmss__Peers__%d__%s" $i (title $field)) (toString .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The gateways' relay secrets: the dialback key and each configured peer's secret, from the chart's or an existing Secret. */}}
{{- define "mmss.relaySecretEnv" -}}
{{- $r := .Values.relay }}
{{- if $r.enabled }}
- name: Mmss__S2s__DialbackSecret
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret | default (include "mmss.secretName" .) }}
      key: {{ ternary $r.dialbackSecretKey "s2s-dialback-secret" (not (empty $r.existingSecret)) }}
{{- range $i, $peer := $r.peers }}
- name: Mmss__Peers__{{ $i }}__Secret
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret | default (include "mmss.secretName" $) }}
      key: {{ ternary ($peer.secretKey | default (printf "peer-%d-secret" $i)) (printf "peer-%d-secret" $i) (not (empty $r.existingSecret)) }}
{{- end }}
{{- end }}
{{- end }}
