"""The deployment's secrets: refuse .env.example's placeholders, generate real values.

    python scripts/compose/env_secrets.py generate [.env.example] > .env   # fresh secrets
    python scripts/compose/env_secrets.py check                             # exit 1 on a placeholder
    python scripts/compose/env_secrets.py exec -- CMD [ARG...]              # check, then run CMD

The image's entrypoint runs `exec`, so every service of docker-compose.yaml refuses to start
while a secret still holds a `change-me-*` placeholder, with one line per secret that says
how to generate it. The values themselves are never printed.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

PLACEHOLDER_PREFIX = "change-me-"
_PLACEHOLDER = re.compile(re.escape(PLACEHOLDER_PREFIX) + r"[A-Za-z0-9_-]*")

TOKEN_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
FERNET_COMMAND = ("python -c 'from cryptography.fernet import Fernet; "
                  "print(Fernet.generate_key().decode())'")

# .env variable -> (its placeholder in .env.example, the command that generates a value).
SECRETS: dict[str, tuple[str, str]] = {
    "POSTGRES_PASSWORD": ("change-me-postgres", TOKEN_COMMAND),
    "REDIS_PASSWORD": ("change-me-redis", TOKEN_COMMAND),
    "AIRFLOW_FERNET_KEY": ("change-me-fernet-key", FERNET_COMMAND),
    "AIRFLOW_JWT_SECRET": ("change-me-jwt-secret", TOKEN_COMMAND),
    "AIRFLOW_API_SECRET_KEY": ("change-me-api-secret-key", TOKEN_COMMAND),
    "AIRFLOW_ADMIN_PASSWORD": ("change-me-admin", TOKEN_COMMAND),
}
_BY_PLACEHOLDER = {placeholder: name for name, (placeholder, _) in SECRETS.items()}


def placeholder_problems(environ: Mapping[str, str]) -> list[str]:
    """One line per secret whose placeholder appears in any value of `environ` (inside a
    database URL too), naming the .env variable and how to generate it; [] when none does.
    Only the placeholder is quoted, never the variable's value."""
    found: list[str] = []
    for value in environ.values():
        for placeholder in _PLACEHOLDER.findall(value):
            if placeholder not in found:
                found.append(placeholder)
    problems = []
    for placeholder in sorted(found, key=_placeholder_order):
        name = _BY_PLACEHOLDER.get(placeholder)
        if name is None:
            problems.append(f"a setting still holds the placeholder {placeholder}: replace it "
                            f"in .env with a generated secret: {TOKEN_COMMAND}")
        else:
            problems.append(f"{name} in .env is still the placeholder {placeholder}: "
                            f"generate one with {SECRETS[name][1]}")
    return problems


def _placeholder_order(placeholder: str) -> int:
    names = list(SECRETS)
    name = _BY_PLACEHOLDER.get(placeholder)
    return names.index(name) if name else len(names)


def generate_value(name: str) -> str:
    """A fresh value for the secret `name` (a Fernet key for AIRFLOW_FERNET_KEY)."""
    if name == "AIRFLOW_FERNET_KEY":
        # What Fernet.generate_key() returns, without needing cryptography installed here.
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def generate_env(example: str) -> str:
    """`example` (the text of .env.example) with every secret's placeholder replaced by a
    generated value; every other line unchanged."""
    lines = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and name.strip() in SECRETS \
                and value.strip().startswith(PLACEHOLDER_PREFIX):
            line = f"{name}={generate_value(name.strip())}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: env_secrets.py generate [ENV_EXAMPLE] | check | exec -- CMD [ARG...]"
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    action, rest = argv[0], argv[1:]
    if action == "generate" and len(rest) <= 1:
        example = Path(rest[0]) if rest else Path(__file__).resolve().parents[2] / ".env.example"
        try:
            text = example.read_text(encoding="utf-8")
        except OSError as error:
            print(f"cannot read {example}: {error.strerror}", file=sys.stderr)
            return 1
        sys.stdout.write(generate_env(text))
        return 0
    if action in ("check", "exec"):
        if action == "exec":
            if rest[:1] == ["--"]:
                rest = rest[1:]
            if not rest:
                print(usage, file=sys.stderr)
                return 2
        elif rest:
            print(usage, file=sys.stderr)
            return 2
        problems = placeholder_problems(os.environ)
        for problem in problems:
            print(f"refusing to start: {problem}", file=sys.stderr)
        if problems:
            return 1
        if action == "exec":
            try:
                os.execvp(rest[0], rest)
            except OSError as error:
                print(f"cannot run {rest[0]}: {error.strerror}", file=sys.stderr)
                return 127
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
