"""The one rule for a pseudonymisation key, however it is given.

Pseudonyms are HMAC-SHA-256 of an identifier with the user's key (``pseudonymise``).
Anyone who can guess the key can re-identify a listed person by hashing guessed IDs (police
IDs, NHS numbers and names with dates of birth are not secret), so a key that is short or
easy to guess protects nothing. The same rule holds for a key file (``--key-file``, the
Processing algorithms, the dock) and for ``$COMMUNITY_SAFETY_KEY``:

- at least ``MIN_LENGTH`` (16) characters, spaces at either end not counted;
- not one short text repeated (``abcabcabc...``, ``passwordpassword``);
- at least ``MIN_DISTINCT`` (6) different characters;
- at most two thirds of the steps from one character to the next predictable: the same character
  again, the next or previous letter or digit, or the neighbouring key of a keyboard row
  (``aaaa``, ``1234``, ``abcd``, ``qwerty``);
- not mostly words and patterns anyone could guess: with the words people use for keys
  (``password``, ``secret``, ``letmein``, ``community``...) and the names the run is known
  by (the project's name and each of its words, given as ``names``) taken out, however
  their letters are written (``P@ssw0rd``, ``Pa55word``, ``Pa$$word``: ``SUBSTITUTES``), at least
  ``MIN_REST`` (10) letters, digits or shifted digits remain in the pieces left, a piece
  that is trivially patterned (a run, a repeat, a keyboard row: ``1234567890`` after
  ``password``) or the same as one before it not counting.

A random key (``openssl rand -hex 32``, a password manager's) passes; a passphrase of
several uncommon words passes. ``key_problem`` says what is wrong in words;
``checked_key`` raises the one-line error.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from pathlib import Path

import pandas as pd

from ..errors import InputError

MIN_LENGTH = 16
MIN_DISTINCT = 6
MIN_REST = 10
ADVICE = ("it needs a secret of at least 16 characters that cannot be guessed (e.g. from "
          "`openssl rand -hex 32`, kept outside the project)")
_ROWS = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm",
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "!@#$%^&*()")
_SYMBOLS = "!@#$%^&*"  # the shifted digits: punctuation that adds to a key's strength
_NEXT = {(row[i], row[i + 1]) for row in _ROWS for i in range(len(row) - 1)}
_NEXT |= {(b, a) for a, b in _NEXT}
COMMON_WORDS = (
    "password", "secret", "letmein", "welcome", "changeme",
    "default", "qwerty", "admin", "example", "test", "key", "iloveyou", "monkey",
    "dragon", "football", "sunshine", "master", "community", "safety", "police", "fire",
    "london", "camden", "pseudonym", "hmac", "sha256",
)


def _repeated(text: str) -> bool:
    """Whether ``text`` is a shorter text written out more than once (the last copy may be
    cut short)."""
    n = len(text)
    return any(text == (text[:p] * (n // p + 1))[:n] for p in range(1, n // 2 + 1))


def guessable_words(names=()) -> list[str]:
    """The words taken out of a key before its strength is counted, longest first: the
    common key words, and each name the run is known by (a project's name), whole and word
    by word (words of 3 or more letters or digits), in lower case."""
    words = set(COMMON_WORDS)
    for name in names:
        low = str(name or "").strip().lower()
        words.update(w for w in (low, *re.split(r"[^0-9a-z]+", low)) if len(w) >= 3)
    return sorted(words, key=lambda w: (-len(w), w))


# what people write for a letter in a key (``P@ssw0rd``, ``Pa55word``, ``Pa$$word``): a word
# is found in a key however its letters are written
SUBSTITUTES = {"a": "@4", "o": "0", "i": "1!", "l": "1!", "e": "3", "s": "5$", "t": "7"}


@functools.lru_cache(maxsize=1024)
def word_pattern(word: str) -> re.Pattern:
    """``word`` (lower case) as a pattern that also finds it written with the common
    substitutions (``SUBSTITUTES``: @ or 4 for a, 0 for o, 1 or ! for i or l, 3 for e, 5
    or $ for s, 7 for t)."""
    return re.compile("".join(f"[{re.escape(ch + SUBSTITUTES[ch])}]" if ch in SUBSTITUTES
                              else re.escape(ch) for ch in word))


def _predictable(text: str) -> bool:
    """Whether more than two thirds of the steps from one character of ``text`` to the next
    are predictable: the same character again, the next or previous letter or digit, or
    the neighbouring key of a keyboard row."""
    steps = list(zip(text, text[1:]))
    return sum(a == b or (a, b) in _NEXT for a, b in steps) * 3 > 2 * len(steps)


def strength(pieces) -> int:
    """How many characters of the ``pieces`` of a key (lower case, what is left with the
    guessable words taken out) count toward its strength: letters, digits and the shifted
    digits of each piece, with the text of a piece before it taken out (the second
    ``2024!`` of ``Barnet2024!Barnet2024!``), unless what is left is trivially patterned
    (one text repeated, or mostly runs, repeats or keyboard rows: ``1234567890``)."""
    counted, earlier = 0, []
    for piece in pieces:
        text = "".join(ch for ch in piece if ch.isalnum() or ch in _SYMBOLS)
        for before in sorted(earlier, key=len, reverse=True):
            text = text.replace(before, "")
        if not text or (len(text) > 1 and (_repeated(text) or _predictable(text))):
            continue
        counted += len(text)
        if len(text) >= 3:
            earlier.append(text)
    return counted


GUESSABLE = ("mostly words and patterns anyone could guess (common key words such as "
             "password or secret, the project's name or its words, runs such as 1234 or abcd, "
             "repeated characters, keyboard rows such as qwerty): fewer than "
             f"{MIN_REST} of its characters are none of these")


def key_problem(key: bytes | str, names=()) -> str | None:
    """What makes ``key`` easy to guess, in words (completing "the key is ..."), or None
    when it passes the rule of the module. ``names``: what the run is known by (the
    project's name), not counted toward the key's strength. The key itself is never
    quoted."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    text = text.strip()
    if not text:
        return "empty"
    if len(text) < MIN_LENGTH:
        return f"too short ({len(text)} characters)"
    low = text.lower()
    if _repeated(low):
        return "one short text repeated"
    distinct = len(set(low))
    if distinct < MIN_DISTINCT:
        return f"made of only {distinct} different characters"
    if _predictable(low):
        return ("mostly runs of repeated or consecutive characters (like aaaa, 1234, abcd "
                "or qwerty)")
    pieces = [low]
    for word in guessable_words(names):  # a word taken out splits the text where it was
        pattern = word_pattern(word)
        pieces = [part for piece in pieces for part in pattern.split(piece)]
    if strength(pieces) < MIN_REST:
        return GUESSABLE
    return None


def checked_key(key: bytes, where: str, names=()) -> bytes:
    """``key`` without spaces at either end, or an ``InputError``: "<where> is <what is
    wrong>; it needs a secret ...". ``where`` names the key's origin, e.g. "key.txt: the
    key file" or "$COMMUNITY_SAFETY_KEY: the key"; ``names`` as for ``key_problem``."""
    problem = key_problem(key, names)
    if problem is not None:
        raise InputError(f"{where} is {problem}; {ADVICE}; nothing was written")
    return key.strip()


KEY_ENVIRONMENT = "COMMUNITY_SAFETY_KEY"


def pseudonymisation_key(key_file: Path | None, names=()) -> tuple[bytes, str]:
    """The key and where it came from: a key file, the environment, or a one-off key. A key
    given either way must pass the one key rule (``checked_key``: long enough and not
    easy to guess, ``names`` the project's name not counting), else the step stops before
    reading anything."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes()
        except OSError as err:
            raise InputError(f"{key_file}: cannot read the key file ({err.strerror})") from err
        key = checked_key(key, f"{key_file}: the key file", names)
        return key, f"key file {Path(key_file).name}"
    if os.environ.get(KEY_ENVIRONMENT) is not None and os.environ[KEY_ENVIRONMENT] != "":
        key = checked_key(os.environ[KEY_ENVIRONMENT].encode(),
                          f"${KEY_ENVIRONMENT}: the key in the environment", names)
        return key, f"${KEY_ENVIRONMENT}"
    return secrets.token_bytes(32), "a one-off random key (IDs cannot be linked across runs)"


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash (HMAC-SHA-256, first 16 hex digits) of each identifier; blanks stay blank."""
    text = values.astype(str).str.strip()
    return text.where(text == "", text.map(digester(key)))


def digester(key: bytes):
    """The pseudonym of one identifier, already trimmed and not blank (``pseudonymise``
    trims and keeps blanks; callers whose identifiers are trimmed already hash directly)."""
    if not key:
        raise ValueError("a pseudonymisation key is required")
    # HMAC (RFC 2104) with the keyed inner and outer hashes made once and copied per value:
    # the same digests as hmac.new(key, value, sha256), twice as fast (millions of IDs)
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(value: str) -> str:
        first = inner.copy()
        first.update(value.encode("utf-8"))
        second = outer.copy()
        second.update(first.digest())
        return second.hexdigest()[:16]

    return digest
