"""A missing test tool skips on a laptop and fails in CI; decided without uninstalling."""

from __future__ import annotations

import pytest

from tests.requirements import REQUIREMENTS, Missing, require, running_in_ci, verdict


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_a_present_requirement_neither_skips_nor_fails(name: str) -> None:
    assert verdict(name, present=True, environ={"CI": "true"}) is None
    assert verdict(name, present=True, environ={}) is None


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_missing_skips_outside_ci(name: str) -> None:
    missing = verdict(name, present=False, environ={"CI": "false"})
    assert missing == Missing(fail=False, reason=REQUIREMENTS[name][1])
    assert verdict(name, present=False, environ={}) == missing


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_missing_fails_in_ci(name: str) -> None:
    missing = verdict(name, present=False, environ={"CI": "true"})
    assert missing is not None
    assert missing.fail
    assert "CI=true" in missing.reason


def test_which_values_mean_ci() -> None:
    assert [running_in_ci({"CI": v}) for v in ("true", "TRUE", "1", " yes ")] == [True] * 4
    assert [running_in_ci({"CI": v}) for v in ("", "false", "0", "no")] == [False] * 4
    assert not running_in_ci({})


def test_the_tiers_ask_for_chromium_coturn_and_the_network() -> None:
    assert {"chromium", "coturn", "network"} <= set(REQUIREMENTS)


def test_require_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REQUIREMENTS, "chromium", (lambda: False, "no chromium here"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no chromium here"):
        require("chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no chromium here"):
        require("chromium")
    monkeypatch.setitem(REQUIREMENTS, "chromium", (lambda: True, "no chromium here"))
    require("chromium")
