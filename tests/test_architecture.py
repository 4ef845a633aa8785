"""The layering rules of style.md, checked on the source: pure protocol cores, one place per dependency."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("broker", "eid", "cardreader", "saml", "oidc")

# Pure cores: no transport, no framework, no database.
PURE = ("eid",)
PURE_EXCEPT = ("eid/server", "eid/client")
IO_MODULES = {"socket", "ssl", "http", "urllib", "asyncio", "subprocess", "selectors", "smartcard",
              "flask", "sqlalchemy", "requests", "websockets", "threading"}

# A third-party library is imported in its own place only.
ONE_PLACE = {
    "smartcard": ("cardreader/pcsc.py",),
    "xmlsec": ("saml/",),
    "jose": ("oidc/",),
    "sqlalchemy": ("broker/",),
    "alembic": ("broker/",),
    "limits": ("broker/ratelimit.py",),
    "flask_limiter": ("broker/ratelimit.py", "broker/views/step_up.py"),
}


def python_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_is_code_to_check():
    assert sum(1 for _ in python_files()) > 5


@pytest.mark.parametrize("path", [p for p in python_files() if relative(p).startswith(PURE)], ids=relative)
def test_protocol_core_does_no_io(path):
    if relative(path).startswith(PURE_EXCEPT):
        return
    assert not imported_modules(path) & IO_MODULES, f"{relative(path)} imports I/O modules"


@pytest.mark.parametrize("library,allowed", sorted(ONE_PLACE.items()))
def test_library_imported_in_one_place(library, allowed):
    offenders = [relative(p) for p in python_files()
                 if library in imported_modules(p) and not relative(p).startswith(allowed)]
    assert offenders == []
