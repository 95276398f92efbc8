"""Encryption at rest of genetic data and photos (AES-256-GCM), with keys from the configuration and rotation.

    Keyring.parse("newest,older") -> Keyring     the first key encrypts, every key decrypts
    keyring.encrypt(data, label) -> bytes        keyring.decrypt(blob, label) -> bytes  (DataKeyError if it cannot)
    keyring.decrypt_many(blobs, label) -> (bytearray, offsets)   many values opened into one buffer
    new_key() -> str                             a fresh key, as REUNITE_DATA_KEYS holds it
    load(settings) -> Keyring                    REUNITE_DATA_KEYS, else the key file in the data folder
    install(keyring); current() -> Keyring       the process's keyring, used by the encrypted columns

A key is 32 random bytes written in URL-safe base64 (44 characters). A sealed value is

    0x01 | key id (4 bytes) | nonce (12 bytes) | AES-GCM ciphertext and tag (16 bytes)

with the first five bytes and a label (the column, or "photo") as associated data, so a value cannot be moved to
another column unnoticed. The key id is derived from the key itself (the first 4 bytes of a SHA-256 of it), so
the keys need no names and a value says which key opens it: a value sealed with a key that is not configured, a
wrong key or a damaged value raises DataKeyError naming the key id, never returns garbage. The first byte 0x01
is never the first byte of JSON, JPEG or PNG, which lets readers tell a plaintext value written before
encryption existed (`is_sealed`) until `reunite keys reencrypt` seals it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.platform.settings import SettingError, Settings

log = logging.getLogger(__name__)

VERSION = b"\x01"
KEY_BYTES = 32
KEY_ID_BYTES = 4
NONCE_BYTES = 12
HEADER_BYTES = len(VERSION) + KEY_ID_BYTES
OVERHEAD = HEADER_BYTES + NONCE_BYTES + 16  # bytes a sealed value is longer than its plaintext
KEY_FILE = "data_keys"
KEYS_VARIABLE = "REUNITE_DATA_KEYS"
_INTO = hasattr(AESGCM, "decrypt_into")  # cryptography 45 and later: decrypt straight into a buffer


class DataKeyError(RuntimeError):
    """A value that cannot be decrypted (key not configured, wrong key, damaged), or no key to encrypt with."""


def new_key() -> str:
    """Return a fresh random key in the form REUNITE_DATA_KEYS and the key file hold."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_id(key: bytes) -> bytes:
    """Return the 4-byte id of a key: stored in front of each value it seals (it says nothing about the key)."""
    return hashlib.sha256(b"reunite data key id\x00" + key).digest()[:KEY_ID_BYTES]


def is_sealed(value: bytes) -> bool:
    """Tell whether a stored value is sealed by this module (else it is plaintext written before encryption)."""
    return value[:1] == VERSION


def sealed_key_id(value: bytes) -> str | None:
    """Return the hex id of the key that sealed a stored value, or None for a plaintext value."""
    return value[1:HEADER_BYTES].hex() if is_sealed(value) else None


@dataclass(frozen=True)
class _Key:
    id: bytes
    aead: AESGCM = field(repr=False)


class Keyring:
    """The configured keys, newest first: the newest seals, any of them opens. Never prints a key."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise DataKeyError("no data key is configured")
        self._keys = [_Key(key_id(k), AESGCM(k)) for k in keys]
        self._by_id: dict[bytes, list[_Key]] = {}
        for k in self._keys:
            self._by_id.setdefault(k.id, []).append(k)

    @classmethod
    def parse(cls, raw: str, *, source: str = KEYS_VARIABLE) -> Keyring:
        """Return the keyring of comma-separated base64 keys, newest first; SettingError names a bad one."""
        keys = []
        for position, text in enumerate((t.strip() for t in raw.replace("\n", ",").split(",")), start=1):
            if not text:
                continue
            try:
                key = base64.urlsafe_b64decode(text.encode("ascii"))
            except (binascii.Error, ValueError, UnicodeEncodeError):
                key = b""
            if len(key) != KEY_BYTES:
                raise SettingError(
                    f"{source}: key {position} is not a key: expected 44 characters of URL-safe base64"
                    " (32 bytes), as `reunite keys new` prints"
                )
            keys.append(key)
        if not keys:
            raise SettingError(f"{source} holds no key: make one with `reunite keys new`")
        return cls(keys)

    @property
    def ids(self) -> list[str]:
        """Return the keys' ids in hex, newest first."""
        return [k.id.hex() for k in self._keys]

    @property
    def newest_id(self) -> str:
        """Return the hex id of the key that seals."""
        return self._keys[0].id.hex()

    def __repr__(self) -> str:
        return f"Keyring(ids={self.ids})"

    def encrypt(self, data: bytes, label: str) -> bytes:
        """Seal `data` with the newest key; `label` (the column or "photo") must be given again to open it."""
        key = self._keys[0]
        header = VERSION + key.id
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + key.aead.encrypt(nonce, data, header + label.encode())

    def decrypt(self, value: bytes, label: str) -> bytes:
        """Open a sealed value with the key that sealed it, or raise DataKeyError saying why it cannot."""
        if not is_sealed(value) or len(value) < OVERHEAD:
            raise DataKeyError(f"{label}: the stored value is not an encrypted value of reunite")
        header, nonce, body = value[:HEADER_BYTES], value[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES], value[
            HEADER_BYTES + NONCE_BYTES :
        ]  # fmt: skip
        candidates = self._by_id.get(header[1:])
        if not candidates:
            raise DataKeyError(
                f"{label}: encrypted with data key {header[1:].hex()}, which is not configured"
                f" ({KEYS_VARIABLE} has {', '.join(self.ids)}): add that key back"
            )
        for key in candidates:
            try:
                return key.aead.decrypt(nonce, body, header + label.encode())
            except InvalidTag:
                continue
        raise DataKeyError(
            f"{label}: the value does not open with data key {header[1:].hex()}: it is damaged, or the key"
            " configured under that id is not the one that encrypted it"
        )

    def decrypt_many(self, values: Sequence[bytes], label: str) -> tuple[bytearray, npt.NDArray[np.int64]]:
        """Open many stored values (as `decrypt` each, plaintext written before encryption as it is) into one
        buffer: value i at buffer[offsets[i]:offsets[i + 1]]. Raises DataKeyError as `decrypt` would.

        For the matcher's start-up, which opens every profile: the plaintexts are written in place (no object
        per value where the library can, `decrypt_into`), and the associated data is built once per key.
        """
        sizes = [len(v) - OVERHEAD if v[:1] == VERSION else len(v) for v in values]
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(np.maximum(np.array(sizes, dtype=np.int64), 0), out=offsets[1:])
        out = bytearray(int(offsets[-1]))
        view = memoryview(out)
        ends = offsets.tolist()
        suffix = label.encode()
        opened: dict[bytes, tuple[Any, bytes]] = {}
        for i, value in enumerate(values):
            start, end = ends[i], ends[i + 1]
            if value[:1] != VERSION:
                view[start:end] = value  # plaintext written before encryption
                continue
            header = value[:HEADER_BYTES]
            key = opened.get(header)
            if key is None:
                candidates = self._by_id.get(header[1:])
                key = opened[header] = (candidates[0].aead if candidates else None, header + suffix)
            aead, associated = key
            if aead is None or len(value) < OVERHEAD:
                view[start:end] = self.decrypt(value, label)  # raises the error that says why
                continue
            whole = memoryview(value)
            nonce, body = (
                whole[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES],
                whole[HEADER_BYTES + NONCE_BYTES :],
            )
            try:
                if _INTO:
                    aead.decrypt_into(nonce, body, associated, view[start:end])
                else:
                    view[start:end] = aead.decrypt(nonce, body, associated)
            except InvalidTag:
                view[start:end] = self.decrypt(value, label)  # another key of that id, or the error
        return out, offsets

    def reseal(self, value: bytes, label: str) -> bytes | None:
        """Return `value` sealed with the newest key (plaintext too), or None when it already is."""
        if is_sealed(value):
            if value[1:HEADER_BYTES] == self._keys[0].id:
                return None
            return self.encrypt(self.decrypt(value, label), label)
        return self.encrypt(value, label)


def _read_key_file(path: Path) -> Keyring:
    return Keyring.parse(path.read_text(), source=str(path))


def load(settings: Settings) -> Keyring:
    """Return the keys of REUNITE_DATA_KEYS; unset, those of `<data folder>/data_keys`, made on first start.

    The key file is made (readable by its owner only) only for the embedded default, a SQLite database: with a
    server database several machines share the data, so they must share the key, given in REUNITE_DATA_KEYS.
    """
    if settings.data_keys:
        return Keyring.parse(settings.data_keys)
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return _read_key_file(path)
    if not settings.database_url.startswith("sqlite"):
        raise SettingError(
            f"{KEYS_VARIABLE} is not set: genotypes and photos are encrypted with it, and every process on a"
            " shared database needs the same keys; make one with `reunite keys new`"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_key_file(path)
    with os.fdopen(fd, "w") as fp:
        fp.write(new_key() + "\n")
    log.warning("Made a data encryption key in %s: keep a copy apart from the database's backups.", path)
    return _read_key_file(path)


_installed: Keyring | None = None
_lock = Lock()


def install(keyring: Keyring) -> None:
    """Make `keyring` the one this process encrypts and decrypts with (the runtime does, on start)."""
    global _installed
    with _lock:
        _installed = keyring


def current() -> Keyring:
    """Return the process's keyring; if none was installed, load it from the environment's settings."""
    global _installed
    if _installed is None:
        with _lock:
            if _installed is None:
                _installed = load(Settings.from_env())
    return _installed
