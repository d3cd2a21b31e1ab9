"""Passwords: argon2id hashes at rest, and the policy a new password must meet.

Passwords are NFKC-normalised before hashing and checking, so the same password typed on different keyboards
(composed or decomposed accents, full-width forms) verifies.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import Argon2Error

from pinhole.errors import WeakPassword

# RFC 9106's second recommended argon2id setting (its first needs 2 GiB per hash).
TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 4
HASH_BYTES = 32
SALT_BYTES = 16
PARAMETERS = Parameters(
    type=Type.ID,
    version=19,
    salt_len=SALT_BYTES,
    hash_len=HASH_BYTES,
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
)
MIN_LENGTH = 10
MAX_LENGTH = 1024


def _normalized(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


class Passwords:
    """Hashes and verifies passwords; verifying for a user that does not exist costs as much as for one that does.

    Build one at start-up (it hashes a random dummy password once) and share it.
    """

    def __init__(self, parameters: Parameters = PARAMETERS) -> None:
        self._hasher = PasswordHasher.from_parameters(parameters)
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    def hash_password(self, password: str) -> str:
        return self._hasher.hash(_normalized(password))

    def verify_password(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; False for a mismatch, a malformed hash, or None (no such user)."""
        if stored_hash is None:
            self._matches(self._dummy_hash, password)
            return False
        return self._matches(stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters (or is unreadable): store a new one after login."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (Argon2Error, ValueError):
            return True

    def _matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, _normalized(password))
        except Argon2Error:  # a mismatch, or argon2 could not decode the hash
            return False
        except ValueError:  # not an argon2 hash at all: take as long as a real check anyway
            self._matches(self._dummy_hash, password)
            return False


@dataclass(frozen=True, kw_only=True)
class PasswordPolicy:
    """What a new password must be; `check` raises WeakPassword naming the first rule broken."""

    min_length: int = MIN_LENGTH
    max_length: int = MAX_LENGTH

    def check(self, password: str, *, username: str | None = None, email: str | None = None) -> None:
        password = _normalized(password)
        self._check_length(password)
        if not password.strip():
            raise WeakPassword("The password must not be only spaces.", rule="not_blank")
        folded = password.strip().casefold()
        if folded in _identities(username, email):
            raise WeakPassword("The password must not be your username or email address.", rule="not_identity")
        if folded in COMMON_PASSWORDS:
            raise WeakPassword("This password is one of the most common; choose another.", rule="not_common")

    def _check_length(self, password: str) -> None:
        if len(password) < self.min_length:
            message = f"The password must be at least {self.min_length} characters."
            raise WeakPassword(message, rule="min_length", min_length=self.min_length)
        if len(password) > self.max_length:
            message = f"The password must be at most {self.max_length} characters."
            raise WeakPassword(message, rule="max_length", max_length=self.max_length)


def _identities(username: str | None, email: str | None) -> set[str]:
    """The account's names as a password would spell them: username, email, and the email's local part."""
    names = {name.strip().casefold() for name in (username, email) if name and name.strip()}
    if email and "@" in email:
        names.add(email.strip().rpartition("@")[0].casefold())
    return names


# The most common passwords in public breach lists, lower-cased and separated by whitespace.
_COMMON = """
    123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football
    monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman
    1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster
    soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel starwars
    klaster 112233 george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777 pass
    maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley 6969 nicole chelsea biteme
    matthew access yankees 987654321 dallas austin thunder taylor matrix william corvette hello martin heather
    secret merlin diamond 1234qwer hammer silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick
    internet scooter orange 11111 golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken
    sparky snoopy maverick phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey
    steelers joseph mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster tigers yellow
    xxxxxx 123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana junior hannah 123654
    porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000 miller boston
    q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333 oliver redsox player nikita knight fender
    barney midnight please brandy chicago badboy slayer rangers charles angel flower rabbit wizard jasper enter
    rachel chris steven winner adidas victoria natasha 1q2w3e4r jasmine winter prince marine fishing cocacola
    casper james 232323 raiders 888888 marlboro gandalf asdfasdf crystal 87654321 12344321 golden 8675309 panther
    lauren angela thx1138 angels madison winston shannon mike toyota jordan23 canada sophie apples tiger jackie
    1qazxsw2 admin root guest user login abc123456 password1 password12 qwerty123 qwerty1 1q2w3e aa123456
    iloveyou1 princess1 passw0rd p@ssw0rd p@ssword starwars1 monkey123 dragon123 zaq12wsx 1qaz2wsx3edc
    changeme letmein1 welcome1 hello123 admin123 root123 test123 test1234 qwe123 asd123 zxc123 azerty 000000000
    1234567890 0987654321 9876543210 1111111111 0000000000 2222222222 5555555555 1234512345 1234554321
    12345678910 123456789a 123456789q a123456789 1234567891 123123123123 11111111111 qwertyuiop1 qwertyuiop123
    1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4t5y6 zaq12wsxcde3 qazwsxedc qazwsxedc123 123qweasdzxc qweasdzxc123
    qwerty12345 qwerty123456 qwertyqwerty asdfghjkl asdfghjkl1 asdfasdfasdf zxcvbnm123 aaaaaaaaaa abcdefghij
    abc1234567 abcd123456 abcdefg123 password123 password1234 password12345 passwordpassword password!
    password1! password2023 password2024 password2025 passw0rd123 p@ssw0rd123 p@ssword123 mypassword
    mypassword1 mypassword123 secretpassword supersecret supersecret123 thisisapassword notmypassword
    defaultpassword temppassword temporary123 changeit changeme123 changemenow letmein123 letmeinplease
    welcome123 welcome1234 welcome2024 welcome2025 summer2024 summer2025 winter2024 winter2025 spring2024
    autumn2024 qwerty2024 admin12345 admin123456 adminadmin administrator administrator1 rootroot rootpassword
    iloveyou123 iloveyou1234 iloveyouforever loveyou123 football123 football1234 baseball123 basketball
    basketball1 princess123 sunshine123 sunshine1 superman123 trustno1234 trustnoone monkey1234 dragon1234
    starwars123 michael123 jennifer123 jessica123 pokemon123 pokemon computer123 internet123 samsung123
    liverpool liverpool123 chelsea123 arsenal123 manchester manchester1 chocolate chocolate1 butterfly
    butterfly1 whatever123 freedom123 mustang123 shadow1234 master1234 blink182 metallica slipknot nirvana
    michaeljordan harrypotter hogwarts1234 minecraft minecraft123 fortnite123 roblox123 playstation
    playstation2 xbox360 nintendo123 spiderman spiderman1 batman123 ironman123 captainamerica avengers123
    pinhole pinhole123 imagehost letmeinnow opensesame opensesame1 correcthorsebatterystaple qwertzuiop
    ytrewq 1qaz!qaz !qaz2wsx 1qaz@wsx zaq1zaq1 zaq1@wsx qazxswedc asdfghjk zxcvbnmasdf qweasd qweasdzxc
    asdqwe123 1a2b3c4d 1a2b3c4d5e a1b2c3d4 a1b2c3d4e5 abcabcabc abcdabcd aabbccdd 1122334455 0123456789
    9999999999 7777777777 8888888888 6666666666 3333333333 4444444444 147258369 159357 741852963 963852741
    147852369 123654789 1236987 q1q1q1q1 w1w1w1w1 monday monday123 friday123 sunday123 january123 december123
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())
