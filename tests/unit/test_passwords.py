"""The password rule (IA-5, NIST SP 800-63B) without an app."""

import pytest

from app.auth.passwords import password_problem


@pytest.mark.parametrize(
    "password",
    [
        "fifteen chars!!",  # exactly 15
        "x" * 30 + " a long passphrase of more than sixty-four characters " + "y" * 10,
        "Überprüfung der Maßnahmen 2026",  # unicode
        "東京の監査報告書を毎週確認します",  # 16 CJK characters
        "😀 emoji are characters too 🔐",
    ],
)
def test_long_and_unicode_passwords_are_accepted(password):
    assert password_problem(password) is None


@pytest.mark.parametrize(
    "password,reason",
    [
        ("short one", "at least 15"),
        ("fourteen chars", "at least 15"),
        ("passwordpassword", "commonly used"),
        ("1q2w3e4r5t6y7u8i9o0p", "commonly used"),
        ("Password Password", "commonly used"),
        ("abcabcabcabcabcabc", "repeats"),
        ("a" * 20, "repeats"),
    ],
)
def test_short_common_and_repetitive_passwords_are_refused(password, reason):
    assert reason in password_problem(password)


def test_the_email_is_not_a_password():
    assert "email" in password_problem("dana.whitfield@example.gov", email="dana.whitfield@example.gov")
