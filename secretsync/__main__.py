"""`python -m secretsync` and the `secretsync` console script."""

from secretsync.cli import main as cli_main


def main() -> None:
    raise SystemExit(cli_main.run())


if __name__ == "__main__":
    main()
