{{/* The operator's permissions, split by where they can apply. rbac.scope=cluster grants both
lists in one ClusterRole; namespaced grants only the first, in a Role per watched namespace.
tests/helm/test_rbac.py checks these against deploy/rbac/clusterrole.yaml and
deploy/namespaced/role.yaml, so a rule added here must be added there too. */}}

{{- define "secretsync.rules.namespaced" -}}
# Read the API it serves; write only status.
- apiGroups: [external-secrets.io]
  resources: [externalsecrets, secretstores]
  verbs: [get, list, watch]
- apiGroups: [external-secrets.io]
  resources: [externalsecrets/status, secretstores/status]
  verbs: [patch]
# Our finalizer (secretsync.io/revoke-leases) on ExternalSecrets whose Vault leases are
# revoked when they are deleted.
- apiGroups: [external-secrets.io]
  resources: [externalsecrets]
  verbs: [patch]
# PushSecrets: read and pushed when their stores are ours; patch sets ESO's finalizer on one
# with deletionPolicy Delete.
- apiGroups: [external-secrets.io]
  resources: [pushsecrets]
  verbs: [get, list, watch]
- apiGroups: [external-secrets.io]
  resources: [pushsecrets]
  verbs: [patch]
- apiGroups: [external-secrets.io]
  resources: [pushsecrets/status]
  verbs: [patch]
# Generators: get, to run the kinds we serve and to read a controller class (spec.controller).
- apiGroups: [generators.external-secrets.io]
  resources: [fakes, vaultdynamicsecrets, beyondtrustworkloadcredentialsdynamicsecrets,
              passwords, uuids, sshkeys, ecrauthorizationtokens]
  verbs: [get]
# Target Secrets; delete is for deletionPolicy: Delete.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, update, delete]
# caProvider and templateFrom ConfigMaps, and ConfigMap targets of spec.target.manifest.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, update, delete]
# Kubernetes auth and web identity: tokens for the ServiceAccount a store names.
- apiGroups: [""]
  resources: [serviceaccounts/token]
  verbs: [create]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [get]
# Events: one per (object, reason, message), its count patched on repeats; get
# only to adopt the one a previous run or leader wrote (kube/events.py).
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch, get]
# Rollouts: restart workloads that use a rotated Secret and judge their health.
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch, patch]
- apiGroups: [apps]
  resources: [replicasets, controllerrevisions]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [get, list, patch]
{{- end }}

{{- define "secretsync.rules.clusterOnly" -}}
- apiGroups: [external-secrets.io]
  resources: [clustersecretstores, clusterexternalsecrets, clusterpushsecrets]
  verbs: [get, list, watch]
- apiGroups: [external-secrets.io]
  resources: [clustersecretstores/status, clusterexternalsecrets/status, clusterpushsecrets/status]
  verbs: [patch]
# ClusterExternalSecrets create, update and delete their ExternalSecrets in any namespace,
# ClusterPushSecrets their PushSecrets.
- apiGroups: [external-secrets.io]
  resources: [externalsecrets, pushsecrets]
  verbs: [create, update, delete]
- apiGroups: [generators.external-secrets.io]
  resources: [clustergenerators]
  verbs: [get]
# ClusterSecretStore conditions select namespaces by label; kopf follows namespaces too.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
# kopf discovers the resources it serves by watching CRDs (read-only).
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- end }}
