"""The password rule (NIST SP 800-63B 5.1.1.2, ASVS V2.1): long, not common, no composition rules.

``password_problem()`` decides; the forms and ``flask users create`` ask it.
"""
from functools import lru_cache
from pathlib import Path

from app.auth.models import normalise_password

MIN_LENGTH = 15
#: Generous: a passphrase of 64 characters or more must fit, and hashing a longer one costs nothing more.
MAX_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _is_one_repeated_unit(text: str) -> bool:
    """"aaaaaaaaaaaaaaa", "abcabcabcabcabc": long, but no harder to guess than the unit."""
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
    context = {email.casefold(), email.casefold().split("@")[0], name.casefold(),
               "corrective action tracker", "correctiveactiontracker"}
    if any(word and len(word) >= 4 and squeezed == "".join(word.split()) for word in context):
        return "The password must not be your email address, your name or the name of this site."
    return None
