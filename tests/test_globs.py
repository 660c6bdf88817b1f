"""Glob patterns: `*` and `?` only, brackets literal; path globs stay within directories."""

import pytest

from validator.globs import is_glob, matches_any


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("TDV-K8S-00*", "TDV-K8S-001", True),
    ("TDV-K8S-00?", "TDV-K8S-0012", False),
    ("tdv-k8s-*", "TDV-K8S-001", True),
    ('aws_s3_bucket.logs["eu"]', 'aws_s3_bucket.logs["eu"]', True),  # brackets are literal
    ("aws_s3_bucket.logs[*]", 'aws_s3_bucket.logs["eu"]', True),
    ("aws_s3_bucket.logs[0]", "aws_s3_bucket.logs0", False),
    ("module.legacy.*", "module.legacy.aws_s3_bucket.a", True),
])
def test_id_and_name_globs(pattern, text, expected):
    assert matches_any([pattern], text, ignore_case=pattern.islower()) is expected


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("vendor/*.yaml", "vendor/a.yaml", True),
    ("vendor/*.yaml", "vendor/sub/a.yaml", False),  # `*` stays in one directory
    ("vendor/**", "vendor/sub/a.yaml", True),
    ("**/tests/*.yaml", "charts/web/tests/a.yaml", True),
    ("**/tests/*.yaml", "tests/a.yaml", True),
    ("vendor", "vendor/sub/a.yaml", True),  # a directory matches everything below it
    ("vendor/", "vendor/a.yaml", True),
    ("./deploy/*.yaml", "deploy/a.yaml", True),
    ("vendor", "vendored/a.yaml", False),
    ("*.yaml", "deploy/a.yaml", False),
])
def test_path_globs(pattern, path, expected):
    assert matches_any([pattern], path, path=True) is expected


def test_is_glob():
    assert is_glob("TDV-*") and is_glob("TDV-K8S-00?")
    assert not is_glob("TDV-K8S-001") and not is_glob('aws_s3_bucket.x["a"]')
