"""The layers of DESIGN.md, checked on the source: a lower layer never imports a higher one.

accounts, core  →  orgs  →  incubator, grants  →  cms, portal

(A higher layer asks a lower one for its parts through hooks: the dashboards, seed_demo,
the links on an organisation's page, the public bases URL.) Imports are read with `ast`, so
an import inside a function counts as much as one at the top of a module."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "accounts": ROOT / "site" / "accounts",
    "core": ROOT / "site" / "core",
    "cms": ROOT / "site" / "cms",
    "portal": ROOT / "site" / "portal",
    "orgs": ROOT / "orgs",
    "incubator": ROOT / "incubator",
    "grants": ROOT / "grants",
}
DOMAIN = {"orgs", "incubator", "grants", "cms", "portal"}
# package -> the project packages it must not import
FORBIDDEN = {
    "accounts": DOMAIN,
    "core": DOMAIN,
    "orgs": {"incubator", "grants", "cms", "portal"},
    "incubator": {"grants", "cms", "portal"},
    "grants": {"cms", "portal"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every absolute import in a module (relative ones stay inside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif _dynamic_import(node):  # importlib.import_module("orgs.x") / import_string("orgs.x.y")
            names.add(node.args[0].value.split(".")[0])
    return names


def _dynamic_import(node) -> bool:
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", "")) in {"import_module", "import_string"}
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def modules(package: str):
    return sorted(p for p in PACKAGES[package].rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_lower_layer_imports_a_higher_one(package):
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package]) for path in modules(package)
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from orgs.selectors import x\n    import incubator.models\n", encoding="utf-8")
    assert imported_packages(module) == {"orgs", "incubator"}


# Templates reach other apps through URL names: `{% url 'incubator:…' %}` in an orgs
# template is as much a dependency as an import.
TEMPLATE_FORBIDDEN = {
    "accounts": {"orgs", "incubator", "grants", "portal", "orgs_admin", "incubator_admin"},
    "core": {"orgs", "incubator", "grants", "portal", "orgs_admin", "incubator_admin"},
    "orgs": {"incubator", "incubator_admin", "incubator_figures", "grants", "portal"},
    "incubator": {"grants", "portal"},
}
URL_TAG = re.compile(r"""{%\s*url\s+['"]([\w-]+):""")


@pytest.mark.parametrize("package", sorted(TEMPLATE_FORBIDDEN))
def test_no_template_links_a_higher_layers_urls(package):
    offending = {}
    for path in sorted(PACKAGES[package].rglob("templates/**/*.html")):
        namespaces = set(URL_TAG.findall(path.read_text(encoding="utf-8"))) & TEMPLATE_FORBIDDEN[package]
        if namespaces:
            offending[str(path.relative_to(ROOT))] = sorted(namespaces)
    assert offending == {}
