"""Passwords: argon2id hash and verify, rehash on new parameters, hashes we cannot read, and the policy rules."""

from __future__ import annotations

import dataclasses

import pytest
from argon2.profiles import CHEAPEST

from pinhole.errors import WeakPassword
from pinhole.security.passwords import PARAMETERS, PasswordPolicy, Passwords

CHEAP = Passwords(CHEAPEST)
GOOD = "correct horse battery"


def test_default_parameters_are_argon2id_as_configured() -> None:
    passwords = Passwords()
    stored = passwords.hash_password(GOOD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(stored, GOOD)


def test_hash_verifies_only_its_password() -> None:
    stored = CHEAP.hash_password(GOOD)
    assert CHEAP.verify_password(stored, GOOD)
    assert not CHEAP.verify_password(stored, GOOD + " ")
    assert not CHEAP.verify_password(stored, GOOD.upper())
    assert CHEAP.hash_password(GOOD) != stored  # salted


def test_unicode_forms_of_one_password_verify() -> None:
    stored = CHEAP.hash_password("caf\u00e9 au lait!")
    assert CHEAP.verify_password(stored, "cafe\u0301 au lait!")


def test_unknown_user_never_verifies() -> None:
    assert not CHEAP.verify_password(None, GOOD)
    assert not CHEAP.verify_password(None, "")


def test_hash_with_other_parameters_needs_rehash_but_still_verifies() -> None:
    stronger = Passwords(dataclasses.replace(CHEAPEST, time_cost=2))
    stored = CHEAP.hash_password(GOOD)
    assert not CHEAP.needs_rehash(stored)
    assert stronger.needs_rehash(stored)
    assert stronger.verify_password(stored, GOOD)
    assert not stronger.needs_rehash(stronger.hash_password(GOOD))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$garbage",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
        "$2b$12$KIXQJ4xqvQ5V2pM1ZcY0ZuI1xjJ6K3mV0i0ZC6g3J1m3yBv3Q8N2a",
        "$argon2id$v=19$m=8,t=1,p=1$\u00fcnicode$\u00fcnicode",
    ],
)
def test_malformed_stored_hash_is_false_not_an_error(stored: str) -> None:
    assert not CHEAP.verify_password(stored, GOOD)
    assert CHEAP.needs_rehash(stored)


def test_module_parameters_are_rfc_9106_low_memory() -> None:
    assert (PARAMETERS.time_cost, PARAMETERS.memory_cost, PARAMETERS.parallelism) == (3, 65536, 4)


@pytest.mark.parametrize(
    ("password", "identity", "rule"),
    [
        ("short1!", {}, "min_length"),
        ("x" * 1025, {}, "max_length"),
        (" " * 12, {}, "not_blank"),
        ("\t\n \u3000" * 4, {}, "not_blank"),
        ("AliceWonder42", {"username": "alicewonder42"}, "not_identity"),
        (" alice@example.com", {"email": "Alice@Example.com"}, "not_identity"),
        ("alice.liddell", {"email": "alice.liddell@example.com"}, "not_identity"),
        ("qwertyuiop", {}, "not_common"),
        ("Password123", {}, "not_common"),
        ("1q2w3e4r5t", {"username": "someone"}, "not_common"),
    ],
)
def test_policy_rules(password: str, identity: dict[str, str], rule: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        PasswordPolicy().check(password, **identity)
    error = caught.value
    assert (error.status, error.code, error.field, error.rule, error.details["rule"]) == (
        400,
        "weak_password",
        "password",
        rule,
        rule,
    )
    assert error.message


@pytest.mark.parametrize("password", [GOOD, "x" * 1024, "ten chars!", "  padded passphrase  ", "пароль-надёжный-2024"])
def test_policy_accepts_reasonable_passwords(password: str) -> None:
    PasswordPolicy().check(password, username="alice", email="alice@example.com")


def test_minimum_length_is_configurable() -> None:
    policy = PasswordPolicy(min_length=16)
    with pytest.raises(WeakPassword) as caught:
        policy.check("fifteen chars!!")
    assert caught.value.details == {"rule": "min_length", "min_length": 16}
    policy.check("sixteen chars!!!")
