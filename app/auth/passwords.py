"""The password rule (NIST SP 800-63B 5.1.1.2, ASVS V2.1): long, not common, no composition rules.

``password_problem()`` decides; the forms and ``flask users create`` ask it. "Common" means the
list shipped in ``data/`` plus the 30,000 most frequent passwords of breach corpora that the
``zxcvbn`` package carries (its ``frequency_lists``), also when dressed up: capitals, digits or
symbols before or after, or the word repeated (``Password1234567!``, ``iloveyouiloveyou1``).
"""

import string
from functools import lru_cache
from pathlib import Path

from app.auth.models import normalise_password

MIN_LENGTH = 15
#: Generous: a passphrase of 64 characters or more must fit, and hashing a longer one costs nothing more.
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


#: The name users know this site by (a password must not be it, dressed up or not).
SITE_NAMES = ("corrective action tracker", "tracker", "corrective action")
_DRESSING = string.digits + string.punctuation + " "


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    shipped = (line for line in lines if line and not line.startswith("#"))
    return frozenset([*shipped, *(p.casefold() for p in FREQUENCY_LISTS["passwords"])])


def _unit(text: str) -> str:
    """The shortest unit ``text`` repeats (``text`` itself when it repeats nothing)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _cores(squeezed: str) -> set[str]:
    """What is left of a folded password once digits and symbols around it and repetition are taken off."""
    stripped = squeezed.rstrip(_DRESSING)
    cores = {squeezed, stripped, stripped.lstrip(_DRESSING), squeezed.lstrip(_DRESSING)}
    cores |= {_unit(c) for c in cores}
    return {c for c in cores if c}


def _is_one_repeated_unit(text: str) -> bool:
    """ "aaaaaaaaaaaaaaa", "abcabcabcabcabc": long, but no harder to guess than the unit."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return True
    return False


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, or None when it may."""
    password = normalise_password(password)
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A few unrelated words make a good passphrase."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.casefold()
    squeezed = "".join(folded.split())
    if folded in common_passwords() or squeezed in common_passwords():
        return "This password is on a list of commonly used passwords. Choose another one."
    if _is_one_repeated_unit(squeezed):
        return "This password repeats the same characters. Choose another one."
    local = email.casefold().split("@")[0]
    context = {
        email.casefold(),
        local,
        *local.replace("_", ".").replace("-", ".").split("."),
        name.casefold(),
        *name.casefold().split(),
        *SITE_NAMES,
    }
    context = {"".join(word.split()) for word in context}
    cores = _cores(squeezed)
    if any(len(word) >= 4 and word in cores for word in context):
        return "The password must not be your email address, your name or the name of this site."
    if cores & common_passwords():
        return (
            "This password is a commonly used password with small changes (capitals, digits or "
            "symbols added, or repeated). Choose another one."
        )
    return None
