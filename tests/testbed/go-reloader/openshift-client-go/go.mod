module github.com/openshift/client-go

go 1.24.0

require (
	github.com/openshift/api v0.0.0-00010101000000-000000000000
	k8s.io/apimachinery v0.35.3
	k8s.io/client-go v0.35.3
)

replace github.com/openshift/api => ../openshift-api
