"""OpenBao with the auth methods it no longer ships built in: ldap and aws, as external plugins.

OpenBao 2.7 moved its LDAP auth method (and long before, its AWS one) out of the server binary,
into openbao-plugins, which the Go module proxy does not serve. The test bed builds them from
what the proxy does serve, each in a module of its own (go-bao-ldap/, go-vault-aws/):
- ldap: OpenBao's own LDAP auth method, from the last OpenBao module on the proxy.
- aws: the aws auth method of Vault 1.14.0 (MPL-2.0), the code OpenBao's aws plugin was forked
  from; it speaks the same plugin protocol.

A dev-mode OpenBao of the test's own registers every binary of its plugin directory at start
(`-dev-plugin-dir`), so a test enables them like built-in methods. It starts in about a second
and is private to the fixture that starts it: the shared OpenBao is left alone.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from tests.testbed import bao, binaries, paths, procs

MODULES = Path(__file__).resolve().parent
LDAP_PLUGIN = binaries.GoBinary(
    "ldap",
    "openbao-20250228",
    "github.com/openbao/openbao/builtin/credential/ldap/cmd/ldap",
    module_dir=MODULES / "go-bao-ldap",
)
AWS_PLUGIN = binaries.GoBinary(
    "aws",
    "vault-v1.14.0",
    "github.com/hashicorp/vault/builtin/credential/aws/cmd/aws",
    module_dir=MODULES / "go-vault-aws",
)
ALL = (LDAP_PLUGIN, AWS_PLUGIN)
BUILD_HINT = "python -m tests.testbed.baoplugins  (make bootstrap does it)"


def plugin_dir(folder: Path, plugins: tuple[binaries.GoBinary, ...]) -> Path:
    """A plugin directory holding a copy of each plugin, named as its auth method."""
    target = folder / "plugins"
    target.mkdir(parents=True, exist_ok=True)
    for plugin in plugins:
        if not plugin.path.exists():
            raise procs.TestbedError(
                f"the OpenBao {plugin.name} auth plugin is not built; run: {BUILD_HINT}"
            )
        try:
            os.link(plugin.path, target / plugin.name)  # a hard link: no copy per server
        except OSError:
            shutil.copy2(plugin.path, target / plugin.name)  # another file system
    return target


def audit_log(folder: Path) -> Path:
    """Every request the private server handled, as OpenBao's file audit device writes it.
    Header values appear in clear only for headers configured with hmac=false."""
    return folder / "audit.log"


def start(
    folder: Path, plugins: tuple[binaries.GoBinary, ...] = ALL, extra_config: str = ""
) -> bao.Bao:
    """A private dev-mode OpenBao with these auth plugins registered and a file audit device
    (OpenBao only accepts audit devices from its configuration file). `extra_config` is more
    HCL, such as a second listener."""
    directory = plugin_dir(folder, plugins)
    config = folder / "server.hcl"
    config.write_text(
        f'audit "file" "requests" {{\n  options {{\n    file_path = "{audit_log(folder)}"\n'
        f"  }}\n}}\n{extra_config}"
    )
    port = procs.free_port()
    token = "root-" + secrets.token_hex(8)
    argv = [*bao.dev_argv(port, token), f"-dev-plugin-dir={directory}", f"-config={config}"]
    proc = procs.start(folder, "openbao-plugins", argv)
    server = bao.Bao(addr=f"http://127.0.0.1:{port}", token=token)

    def ready() -> bool:
        health = bao.request(server, "GET", "sys/health", token=False)
        return health.get("sealed") is False

    procs.wait_for(folder, "openbao-plugins", ready, timeout=30, proc=proc)
    return server


def stop(folder: Path) -> None:
    procs.stop_all(folder, grace=5)


def build_all() -> None:
    binaries.build_all(ALL)


if __name__ == "__main__":
    print(f"building OpenBao's auth plugins into {paths.cache_dir() / 'bin'}", flush=True)
    build_all()
