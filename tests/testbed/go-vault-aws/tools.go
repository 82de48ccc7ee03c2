//go:build tools

// Package vaultaws only records that the test bed builds an aws auth method for OpenBao, so that
// `go mod tidy` keeps its dependencies in go.sum. OpenBao's own aws plugin lives in
// openbao-plugins, which the module proxy does not serve; this is the code it was forked from,
// Vault 1.14.0's aws auth method (MPL-2.0, the last release before the license change), run as
// an external plugin. A module of its own because Vault pins its own dependency graph.
package vaultaws

import _ "github.com/hashicorp/vault/builtin/credential/aws/cmd/aws"
