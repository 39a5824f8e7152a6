"""Input files: kinds are told from content; bad files raise ConfigError(file, key_path, problem)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from originguard.audit import audit_paths
from originguard.errors import ConfigError

from .audit_helpers import DATA, audit


def test_kind_comes_from_content_not_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "export.txt"
    shutil.copy(DATA / "cloudfront-secure.json", renamed)
    assert any(f.check == "origin-https-only" for f in audit_paths([renamed]).findings)


def test_concatenated_json_objects_are_read_as_one_export() -> None:
    assert any(f.check == "header-condition" for f in audit("elbv2-secure.json").findings)


def test_invalid_json_names_the_file_and_position() -> None:
    with pytest.raises(ConfigError) as caught:
        audit("bad.json")
    assert caught.value.file.endswith("bad.json")
    assert "invalid JSON" in caught.value.problem and "line 2" in caught.value.problem


def test_invalid_yaml_names_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        audit("bad.yaml")
    assert "YAML syntax error: line" in caught.value.problem


def test_unknown_shape_says_what_was_expected() -> None:
    with pytest.raises(ConfigError) as caught:
        audit("unknown.json")
    assert "unrecognised content" in caught.value.problem
    assert "Reservations" in caught.value.problem


def test_wrong_type_inside_a_known_shape_names_the_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "cf.json"
    bad.write_text('{"DistributionConfig": {"Origins": {"Items": {"Id": "x"}}, "DefaultCacheBehavior": {}}}')
    with pytest.raises(ConfigError) as caught:
        audit_paths([bad])
    assert caught.value.key_path == "DistributionConfig.Origins.Items"


def test_bad_annotation_json_names_the_annotation(tmp_path: Path) -> None:
    bad = tmp_path / "ing.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: w\n  annotations:\n"
        "    alb.ingress.kubernetes.io/listen-ports: '[{\"HTTPS\": 443'\nspec: {}\n"
    )
    with pytest.raises(ConfigError) as caught:
        audit_paths([bad])
    assert caught.value.key_path.endswith("[alb.ingress.kubernetes.io/listen-ports]")


def test_kubernetes_file_without_ingress_is_an_error(tmp_path: Path) -> None:
    svc = tmp_path / "svc.yaml"
    svc.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
    with pytest.raises(ConfigError, match="no Ingress"):
        audit_paths([svc])


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        audit_paths([tmp_path / "nope.json"])
