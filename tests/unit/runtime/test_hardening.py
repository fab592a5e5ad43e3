"""Hardening: a policy pack may tighten the defaults, never loosen them."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.runtime import Hardening


def test_defaults_are_locked_down() -> None:
    hardening = Hardening()
    assert hardening.network == "none"
    assert hardening.read_only_root and hardening.cap_drop_all and hardening.no_new_privileges
    assert hardening.user.split(":")[0] not in {"0", "root"}


def test_tightened_takes_the_stricter_value_of_each_field() -> None:
    base = Hardening(memory_mb=2048, cpus=1.0, pids_limit=256, timeout_s=600, tmp_size_mb=64)
    policy = Hardening(memory_mb=512, cpus=2.0, pids_limit=512, timeout_s=60, tmp_size_mb=128)

    tightened = base.tightened(policy)

    assert tightened.memory_mb == 512
    assert tightened.cpus == 1.0
    assert tightened.pids_limit == 256
    assert tightened.timeout_s == 60
    assert tightened.tmp_size_mb == 64
    assert tightened == policy.tightened(base)  # order does not matter


def test_a_looser_policy_changes_nothing() -> None:
    base = Hardening()
    looser = Hardening(memory_mb=1 << 20, cpus=64, pids_limit=1 << 16, timeout_s=1e9)
    assert base.tightened(looser) == base


def test_hardening_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Hardening().memory_mb = 1 << 20  # type: ignore[misc]
