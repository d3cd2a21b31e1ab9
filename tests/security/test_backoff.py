"""Sign-in back-off: growth and cap, reset on success, accounts versus addresses, trust, bursts, forgetting."""

from __future__ import annotations

import asyncio

import pytest

from pinhole.errors import LoginThrottled
from pinhole.security.backoff import BackoffPolicy, LoginBackoff, MemoryAttemptStore
from tests.security.clock import ManualClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def backoff(clock: ManualClock) -> LoginBackoff:
    return LoginBackoff(MemoryAttemptStore(), clock=clock)


async def fail(backoff: LoginBackoff, account: str, ip: str) -> None:
    await backoff.check(account, ip)
    await backoff.record_failure(account, ip)


async def retry_after(backoff: LoginBackoff, account: str, ip: str) -> int:
    """The wait `check` asks for, or 0 when it lets the attempt through (and then resolves it as a success)."""
    try:
        await backoff.check(account, ip)
    except LoginThrottled as exc:
        return exc.retry_after
    await backoff.record_success(account, ip)
    return 0


async def fail_patiently(backoff: LoginBackoff, clock: ManualClock, account: str, ip: str, times: int) -> None:
    """Fail `times` times, each time waiting out the back-off first."""
    for _ in range(times):
        try:
            await backoff.check(account, ip)
        except LoginThrottled as exc:
            clock.advance(exc.retry_after)
            await backoff.check(account, ip)
        await backoff.record_failure(account, ip)


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (4, 0), (5, 1), (6, 2), (7, 4), (14, 512), (15, 900), (100, 900), (10**6, 900)],
)
def test_delay_doubles_after_the_threshold_up_to_the_cap(failures: int, delay: float) -> None:
    assert BackoffPolicy().delay(failures) == delay


async def test_four_failures_are_free_then_the_wait_doubles(backoff: LoginBackoff, clock: ManualClock) -> None:
    for _ in range(4):
        await fail(backoff, "alice", "192.0.2.1")
    await fail(backoff, "alice", "192.0.2.1")
    waits = []
    for _ in range(4):
        with pytest.raises(LoginThrottled) as caught:
            await backoff.check("alice", "192.0.2.1")
        waits.append(caught.value.retry_after)
        clock.advance(caught.value.retry_after)
        await fail(backoff, "alice", "192.0.2.1")
    assert waits == [1, 2, 4, 8]
    assert (caught.value.status, caught.value.code) == (429, "login_throttled")


async def test_wait_is_capped_at_fifteen_minutes(backoff: LoginBackoff, clock: ManualClock) -> None:
    await fail_patiently(backoff, clock, "alice", "192.0.2.1", times=30)
    assert await retry_after(backoff, "alice", "192.0.2.1") == 900
    clock.advance(900)
    assert await retry_after(backoff, "alice", "192.0.2.1") == 0


async def test_success_resets_the_account(backoff: LoginBackoff, clock: ManualClock) -> None:
    await fail_patiently(backoff, clock, "alice", "192.0.2.1", times=6)
    clock.advance(2)
    assert await retry_after(backoff, "alice", "192.0.2.1") == 0  # a success
    for _ in range(4):  # from a new address: the account's count starts again
        await fail(backoff, "alice", "198.51.100.9")
    assert await retry_after(backoff, "alice", "198.51.100.9") == 0


async def test_account_back_off_follows_the_account_across_addresses(backoff: LoginBackoff) -> None:
    for n in range(5):
        await fail(backoff, "alice", f"192.0.2.{n}")
    assert await retry_after(backoff, "alice", "198.51.100.9") == 1
    assert await retry_after(backoff, "bob", "198.51.100.9") == 0


async def test_accounts_are_compared_case_folded(backoff: LoginBackoff) -> None:
    for name in ["Alice", "ALICE", "alice ", " alice", "alIce"]:
        await fail(backoff, name, "192.0.2.1")
    assert await retry_after(backoff, "alice", "198.51.100.9") == 1


async def test_address_back_off_slows_spraying_many_accounts(backoff: LoginBackoff) -> None:
    for n in range(20):
        await fail(backoff, f"user{n}", "203.0.113.5")
    assert await retry_after(backoff, "victim", "203.0.113.5") == 1
    assert await retry_after(backoff, "victim", "198.51.100.9") == 0


async def test_ipv6_addresses_are_counted_per_64(backoff: LoginBackoff) -> None:
    for n in range(20):
        await fail(backoff, f"user{n}", f"2001:db8:1:2::{n + 1:x}")
    assert await retry_after(backoff, "victim", "2001:db8:1:2::ffff") == 1
    assert await retry_after(backoff, "victim", "2001:db8:1:3::1") == 0


async def test_success_does_not_clear_the_address(backoff: LoginBackoff, clock: ManualClock) -> None:
    for n in range(19):
        await fail(backoff, f"user{n}", "203.0.113.5")
    assert await retry_after(backoff, "attacker", "203.0.113.5") == 0  # their own account: a success
    await fail(backoff, "user19", "203.0.113.5")
    assert await retry_after(backoff, "victim", "203.0.113.5") == 1


async def test_attacker_cannot_keep_the_owner_out(backoff: LoginBackoff, clock: ManualClock) -> None:
    assert await retry_after(backoff, "alice", "192.0.2.1") == 0  # alice signs in from home
    await fail_patiently(backoff, clock, "alice", "203.0.113.66", times=40)
    await fail(backoff, "alice", "192.0.2.1")  # home is trusted: no account back-off, even for a typo
    wait = await retry_after(backoff, "alice", "198.51.100.9")  # a new address waits, but not for ever
    assert 0 < wait <= 900
    clock.advance(wait)
    assert await retry_after(backoff, "alice", "198.51.100.9") == 0


async def test_failures_are_forgotten_after_a_quiet_day(backoff: LoginBackoff, clock: ManualClock) -> None:
    await fail_patiently(backoff, clock, "alice", "192.0.2.1", times=12)
    clock.advance(24 * 3600)
    for _ in range(4):
        await fail(backoff, "alice", "192.0.2.1")
    assert await retry_after(backoff, "alice", "192.0.2.1") == 0


async def test_concurrent_guesses_get_only_the_free_attempts(backoff: LoginBackoff) -> None:
    async def guess() -> bool:
        try:
            await backoff.check("alice", "203.0.113.5")
        except LoginThrottled:
            return False
        return True

    passed = await asyncio.gather(*(guess() for _ in range(50)))
    assert sum(passed) == 5


async def test_a_burst_past_the_threshold_gets_one_attempt(backoff: LoginBackoff, clock: ManualClock) -> None:
    await fail_patiently(backoff, clock, "alice", "203.0.113.5", times=8)
    clock.advance(900)

    async def guess(n: int) -> bool:
        try:
            await backoff.check("alice", f"198.51.100.{n}")
        except LoginThrottled:
            return False
        return True

    assert sum(await asyncio.gather(*(guess(n) for n in range(50)))) == 1


async def test_resolved_attempts_leave_flight(backoff: LoginBackoff) -> None:
    for _ in range(3):
        await fail(backoff, "alice", "192.0.2.1")
    for _ in range(10):
        assert await retry_after(backoff, "alice", "192.0.2.1") == 0


async def test_store_sweeps_expired_counters(clock: ManualClock) -> None:
    store = MemoryAttemptStore(sweep_every=60)
    backoff = LoginBackoff(store, clock=clock)
    for n in range(100):
        await fail(backoff, f"user{n}", f"10.0.0.{n}")
    assert store.size == 200
    clock.advance(24 * 3600 + 1)
    await fail(backoff, "someone", "10.0.1.1")
    assert store.size == 2


def test_forget_after_must_outlast_the_longest_wait() -> None:
    with pytest.raises(ValueError, match="forget_after"):
        LoginBackoff(MemoryAttemptStore(), forget_after=60)
