"""secretsync beside the real External Secrets Operator, Vault Secrets Operator and Reloader,
on the same work and the same machine, and beside the apiserver's own floor.

    python -m bench.peers --count 1000 --operators eso,secretsync,vso \
        --scenarios sync,refresh,rotation,floor

Each operator runs alone on a fresh private test bed (apiserver, etcd, KWOK, OpenBao). Writes
the section "## Side by side with the peers" of docs/benchmarks.md.
"""
