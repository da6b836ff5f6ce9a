"""Config files: every mistake is one ConfigError naming file, key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from sim2real.config import StrictModel, load_model
from sim2real.errors import ConfigError, UserError


class Inner(StrictModel):
    low: float
    high: float = 1.0


class Doc(StrictModel):
    name: str
    count: int = Field(default=1, ge=1)
    inner: Inner


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.toml"
    path.write_text(text)
    return path


def test_valid_document_loads(tmp_path: Path) -> None:
    doc = load_model(_write(tmp_path, 'name = "a"\n[inner]\nlow = 0.5\n'), Doc)
    assert doc.inner.low == 0.5 and doc.count == 1


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name = "a"\n[inner]\nlow = 0.5\nhihg = 2\n')
    with pytest.raises(ConfigError) as info:
        load_model(path, Doc)
    msg = str(info.value)
    assert msg.startswith(f"{path}: inner.hihg: expected a known key")
    assert "high, low" in msg
    assert isinstance(info.value, UserError) and "\n" not in msg


def test_nan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"inner\.low: expected a finite number \(got nan\)"):
        load_model(_write(tmp_path, 'name = "a"\n[inner]\nlow = nan\n'), Doc)


def test_constraint_and_type_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"count: .*greater than or equal to 1 \(got 0\)"):
        load_model(_write(tmp_path, 'name = "a"\ncount = 0\n[inner]\nlow = 0\n'), Doc)
    with pytest.raises(ConfigError, match=r"inner\.low: .*valid number"):
        load_model(_write(tmp_path, 'name = "a"\n[inner]\nlow = "x"\n'), Doc)


def test_missing_key_and_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"name: expected this required key to be set"):
        load_model(_write(tmp_path, '[inner]\nlow = 0\n'), Doc)
    with pytest.raises(ConfigError, match=r"expected valid TOML: .*line 1"):
        load_model(_write(tmp_path, 'name = \n'), Doc)
    with pytest.raises(ConfigError, match=r"missing\.toml: expected an existing TOML file"):
        load_model(tmp_path / "missing.toml", Doc)
