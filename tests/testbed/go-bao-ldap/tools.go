//go:build tools

// Package baoldap only records that the test bed builds OpenBao's LDAP auth method as an
// external plugin, so that `go mod tidy` keeps its dependencies in go.sum. OpenBao 2.7 no longer
// ships it built in (it moved to openbao-plugins, which the module proxy does not serve); this is
// the same code from the last OpenBao module the proxy serves, registered through a plugin
// directory. A module of its own because it needs OpenBao's sdk and api at their tagged releases.
package baoldap

import _ "github.com/openbao/openbao/builtin/credential/ldap/cmd/ldap"
