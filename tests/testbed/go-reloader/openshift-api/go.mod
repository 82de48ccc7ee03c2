module github.com/openshift/api

go 1.24.0

require k8s.io/api v0.35.3

require k8s.io/apimachinery v0.35.3
