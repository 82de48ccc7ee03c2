//go:build tools

// Package reloader only records that the test bed builds stakater Reloader (its main package is
// the module root), so that `go mod tidy` keeps its dependencies in go.sum. It is a module of
// its own because Reloader needs its replace directives and the OpenShift stand-ins, which
// only a main module's go.mod can give.
package reloader

import _ "github.com/stakater/Reloader"
