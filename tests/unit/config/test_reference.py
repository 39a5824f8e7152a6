"""docs/config.md documents every key, generated from the models; errors point at it (issue #16 item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import Field

from originguard.config import load_config_text
from originguard.config.keys import github_anchor, sections
from originguard.config.reference import DOC, UndocumentedKey, main, render, splice
from originguard.config.values import Model
from originguard.errors import ConfigErrors

ROOT = Path(__file__).resolve().parents[3]


def test_the_checked_in_reference_is_what_the_models_generate() -> None:
    document = (ROOT / DOC).read_text(encoding="utf-8")
    assert splice(document, render()) == document, "docs/config.md is stale: run `make config-docs`"


def test_the_check_command_fails_on_a_stale_reference(tmp_path: Path) -> None:
    stale = tmp_path / "config.md"
    stale.write_text(splice((ROOT / DOC).read_text(encoding="utf-8"), "<!-- generated from the config"
                            " models by `make config-docs`: begin -->\n<!-- generated: end -->"))  # fmt: skip
    assert main(["--check", str(stale)]) == 1
    assert main(["--write", str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_every_key_of_every_model_has_a_description_and_a_row() -> None:
    document = (ROOT / DOC).read_text(encoding="utf-8")
    headings = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", document, re.MULTILINE)}
    for section in sections():
        assert section.anchor in headings or not section.path, section.path
        for key, info in section.model.model_fields.items():
            assert info.description, f"{section.path}.{key} has no description"
            assert f"| `{info.alias or key}` |" in document


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("edges[]", "certificates"),
        ("edges[].certificates[]", "names"),
        ("dns", "tcp_idle_timeout"),
        ("dns.measured", "max_age"),
        ("dns.measured", "max_subnets"),
        ("dns.soa", "mname"),
        ("dns.soa", "rname"),
        ("dns.soa", "serial"),
        ("dns.soa", "refresh"),
        ("dns.soa", "retry"),
        ("dns.soa", "expire"),
        ("dns.soa", "minimum"),
        ("cluster", "redis"),
    ],
)
def test_keys_the_old_reference_lacked_are_documented_under_their_section(heading: str, key: str) -> None:
    document = (ROOT / DOC).read_text(encoding="utf-8")
    table = document.split(f"### `{heading}`\n", 1)[1].split("\n### ", 1)[0]
    assert f"| `{key}` |" in table


def test_a_field_without_a_description_stops_the_generator() -> None:
    class Section(Model):
        documented: int = Field(default=1, description="has one")
        forgotten: int = 2

    class Root(Model):
        part: Section = Field(description="a part")

    with pytest.raises(UndocumentedKey, match=r"part\.forgotten \(Section\)"):
        render(Root)


def test_every_link_in_the_reference_reaches_a_heading() -> None:
    document = (ROOT / DOC).read_text(encoding="utf-8")
    anchors = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", document, re.MULTILINE)}
    links = set(re.findall(r"\]\(#([^)]+)\)", document))
    assert links and links <= anchors, sorted(links - anchors)
    assert len(anchors) == len(re.findall(r"^#+ ", document, re.MULTILINE)), "two headings share an anchor"


def test_an_unknown_key_lists_the_keys_allowed_there_and_links_to_their_table() -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(
            "gate:\n  listeners:\n    - {port: 127.0.0.1:0, protocol: http, rulez: []}\n",
            "site.yaml",
            Path("."),
            load_secrets=False,
        )
    (message,) = [str(e) for e in caught.value.errors]
    assert message == (
        "site.yaml: gate.listeners[0].rulez: unknown key; allowed here: port, protocol, tls, "
        "default_action, rules, underscores_in_headers (see docs/config.md#gatelisteners)"
    )
    assert "### `gate.listeners[]`" in (ROOT / DOC).read_text(encoding="utf-8")


def test_a_waf_statement_error_names_the_key_path_without_pydantic_branch_labels() -> None:
    text = """
waf:
  web_acls:
    main:
      rules:
        - {name: a, priority: 1, action: block, statement: {byte_match: {field: path, serch: x}}}
"""
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(text, "site.yaml", Path("."), load_secrets=False)
    messages = [str(e) for e in caught.value.errors]
    assert (
        "site.yaml: waf.web_acls.main.rules[0].statement.byte_match.serch: unknown key; allowed here: "
        "field, transforms, oversize, search, position "
        "(see docs/config.md#wafweb_aclsnamerulesstatementbyte_match)"
    ) in messages


def test_the_product_names_no_file_outside_the_repository() -> None:
    offenders = []
    # No design notes kept outside the checkout, and no path on the development machine: the
    # shared data beside the checkout is for tests and benchmarks only (tests/crs_regression.py's
    # shared_dir()), never something the product documents or needs.
    words = ("DESIGN.md", "DESIGN:", "STYLE.md", "../shared", "/work/")
    product = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")]
    for path in [*product, *(ROOT / "src").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {word}" for word in words if word in text]
    assert offenders == []
