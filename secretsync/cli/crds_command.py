"""`secretsync crds`: print (or write) the CustomResourceDefinitions generated from the models."""

from __future__ import annotations

import argparse
from pathlib import Path

from secretsync.api.crds import all_crds
from secretsync.sops.yamlplain import dump_documents


def crd_files() -> dict[str, str]:
    """File name -> YAML text, one CRD per file, as committed under crds/."""
    files: dict[str, str] = {}
    for crd in all_crds():
        files[f"{crd['metadata']['name']}.yaml"] = dump_documents([crd])
    names = sorted(files)
    files["kustomization.yaml"] = dump_documents(
        [
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": names,
            }
        ]
    )
    return files


def run(args: argparse.Namespace) -> int:
    if args.write is None:
        print(dump_documents(all_crds()), end="")
        return 0
    directory: Path = args.write
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in crd_files().items():
        (directory / name).write_text(text)
    return 0
