"""Passphrase encryption of backup archives: scrypt-derived key, AES-256-GCM in authenticated chunks.

Layout: ``MAGIC | salt(16) | log2(n)(1) | r(1) | p(1) | nonce prefix(8)`` then chunks ``len(4) | final(1) | ct``.
Each chunk's nonce is the prefix plus its index and its associated data binds the header, the index and the
"final" flag, so reordering, dropping, truncating or appending chunks fails authentication, like a wrong passphrase.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"WSEENC1\n"
CHUNK = 1024 * 1024
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 15, 8, 1


class DecryptionError(Exception):
    pass


def is_encrypted(path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def _key(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    if not passphrase:
        raise DecryptionError("an empty passphrase is not allowed")
    return Scrypt(salt=salt, length=32, n=2**log_n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _chunks(src: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    current = src.read(CHUNK)
    while True:
        following = src.read(CHUNK)
        yield current, not following
        if not following:
            return
        current = following


def encrypt_stream(src: BinaryIO, dst: BinaryIO, passphrase: str) -> None:
    salt, prefix = os.urandom(16), os.urandom(8)
    header = MAGIC + salt + bytes([SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P]) + prefix
    aead = AESGCM(_key(passphrase, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P))
    dst.write(header)
    for index, (data, final) in enumerate(_chunks(src)):
        flag = b"\x01" if final else b"\x00"
        ct = aead.encrypt(prefix + struct.pack(">I", index), data, header + struct.pack(">I", index) + flag)
        dst.write(struct.pack(">I", len(ct)) + flag + ct)


def decrypt_stream(src: BinaryIO, dst: BinaryIO, passphrase: str) -> None:
    header = src.read(len(MAGIC) + 16 + 3 + 8)
    if len(header) != len(MAGIC) + 27 or not header.startswith(MAGIC):
        raise DecryptionError("not an encrypted backup archive (bad header)")
    salt = header[len(MAGIC) : len(MAGIC) + 16]
    log_n, r, p = header[len(MAGIC) + 16 : len(MAGIC) + 19]
    prefix = header[-8:]
    if not (10 <= log_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise DecryptionError("not an encrypted backup archive (bad key parameters)")
    aead = AESGCM(_key(passphrase, salt, log_n, r, p))
    index = 0
    while True:
        head = src.read(5)
        if len(head) < 5:
            raise DecryptionError("the encrypted archive is truncated")
        (length,) = struct.unpack(">I", head[:4])
        flag = head[4:5]
        if length > CHUNK + 64 or flag not in (b"\x00", b"\x01"):
            raise DecryptionError("the encrypted archive is damaged")
        ct = src.read(length)
        if len(ct) != length:
            raise DecryptionError("the encrypted archive is truncated")
        try:
            data = aead.decrypt(prefix + struct.pack(">I", index), ct, header + struct.pack(">I", index) + flag)
        except InvalidTag:
            raise DecryptionError("wrong passphrase, or the encrypted archive was tampered with")
        dst.write(data)
        index += 1
        if flag == b"\x01":
            if src.read(1):
                raise DecryptionError("the encrypted archive has data after its last chunk (tampered)")
            return
