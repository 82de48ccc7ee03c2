//go:build tools

// Package eso only records that the test bed builds the External Secrets Operator's controller
// (its main package is the module root), so that `go mod tidy` keeps its dependencies in go.sum.
// It is a module of its own because ESO pins its own Kubernetes libraries and replaces sprig
// with its fork, which only a main module's go.mod can do.
package eso

import _ "github.com/external-secrets/external-secrets"
