//go:build tools

// Package vso only records that the test bed builds HashiCorp's Vault Secrets Operator (its
// main package is the module root), so that `go mod tidy` keeps its dependencies in go.sum.
// It is a module of its own because VSO pins its own Kubernetes and controller-runtime
// releases, older than the control plane's.
package vso

import _ "github.com/hashicorp/vault-secrets-operator"
