//go:build tools

// Package argo only records that the test bed builds the Argo Rollouts controller, so that
// `go mod tidy` keeps its dependencies in go.sum. It is a module of its own because
// argo-rollouts pins client-go and friends to its own Kubernetes release with `replace`.
package argo

import _ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"
