"""PAdES signatures of receipts (pyHanko): signing with the Institute's PKCS#12 key, and checking
a file's signature for `tisi-pay receipt verify`."""
# ruff: noqa: E402  (the warning filter must come before pyHanko is imported)
from __future__ import annotations

import functools
import io
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.utils import CryptographyDeprecationWarning

# pyHanko imports DSA, which cryptography deprecates: a warning on every `receipt verify`
warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"pyhanko\.")
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

FIELD = "TISI-Receipt-Signature"
# pyHanko logs a traceback for a change after signing that it then reports as a modification;
# `check_signature` says the same in one line
logging.getLogger("pyhanko.sign.diff_analysis").setLevel(logging.CRITICAL)
# The organisation of the demo's and the tests' certificates (bot.dev.testcert): what they sign is a
# sample, and says so on its face.
SAMPLE_ORGANIZATION = "TISI Pay test"


class SignerError(RuntimeError):
    """The key cannot be used: the message says why, in one line."""


@functools.lru_cache(maxsize=8)
def _opened(path: str, _version: tuple[int, int], password: str | None) -> signers.SimpleSigner | None:
    """The key file decrypted once per process and version of the file (43 ms each time: the
    PKCS#12 key derivation), not for every app or command that asks."""
    return signers.SimpleSigner.load_pkcs12_data(Path(path).read_bytes(), other_certs=(),
                                                 passphrase=(password or "").encode() or None)


class ReceiptSigner:
    def __init__(self, p12_path: str | Path, password: str | None):
        try:
            stat = Path(p12_path).stat()
            signer = _opened(str(p12_path), (stat.st_mtime_ns, stat.st_size), password)
        except OSError as exc:
            raise SignerError(f"RECEIPT_SIGNING_P12 cannot be read: {exc.strerror}") from None
        except ValueError:  # pyHanko's "Invalid password or PKCS12 data"
            signer = None
        if signer is None or signer.signing_cert is None:
            raise SignerError("RECEIPT_SIGNING_P12 could not be opened: wrong RECEIPT_SIGNING_PASSWORD, or not a "
                              "PKCS#12 file with a key and a certificate")
        self.certificate: asn1_x509.Certificate = signer.signing_cert
        if self.certificate.public_key.algorithm != "rsa":
            # pyHanko marks a file signed with ECDSA or EdDSA as PDF 2.0 (ISO 32002), which a
            # PDF/A-3 receipt (a PDF 1.7 profile) must not be
            raise SignerError("RECEIPT_SIGNING_P12 holds a "
                              f"{self.certificate.public_key.algorithm.upper()} key: receipts are PDF/A-3 "
                              "(PDF 1.7), and only an RSA signature keeps them so")
        self._signer = signer

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly

    @property
    def sample(self) -> bool:
        """A test certificate's: its receipts carry SAMPLE across their face."""
        return self.certificate.subject.native.get("organization_name") == SAMPLE_ORGANIZATION

    def sign(self, pdf: bytes, reason: str = "ใบเสร็จรับเงิน / Receipt") -> bytes:
        """An invisible PAdES B-B signature over the whole file (a receipt, or another document
        the Institute signs such as the day's close: `reason` says which). PAdES leaves the CMS
        signingTime out on purpose: the signing time is the signature dictionary's /M."""
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, location="Thai Industrial Standards Institute, Bangkok")
        out = io.BytesIO()
        try:
            signers.sign_pdf(writer, meta, signer=self._signer, output=out,
                             new_field_spec=fields.SigFieldSpec(FIELD))
        except SigningError as exc:
            raise SignerError(f"could not sign: {exc}") from None
        return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str  # why not, or whose signature
    signed_at: datetime | None = None
    signer: str | None = None


def check_signature(pdf: bytes, trusted: list[asn1_x509.Certificate]) -> SignatureCheck:
    """One signature, intact, by a trusted certificate (or one that chains to a trusted root), and
    covering the whole file: anything appended after signing is a modification."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:
        return SignatureCheck(False, f"not a readable PDF ({type(exc).__name__})")
    if not signatures:
        return SignatureCheck(False, "the file carries no signature")
    if len(signatures) > 1:
        return SignatureCheck(False, "the file carries more than one signature")
    sig = signatures[0]
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=trusted, allow_fetching=False))
    except Exception as exc:
        return SignatureCheck(False, f"modified: the signature cannot be checked ({type(exc).__name__}: {exc})")
    signer = status.signing_cert.subject.human_friendly if status.signing_cert is not None else None
    if not status.intact:
        return SignatureCheck(False, "modified: the signed bytes were changed after signing", signer=signer)
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        return SignatureCheck(False, "modified: bytes were added after the signature", signer=signer)
    if not status.trusted:
        return SignatureCheck(False, f"unknown signer: {signer} is not the configured certificate and does not "
                                     "chain to RECEIPT_TRUST_ROOTS", signer=signer)
    return SignatureCheck(True, f"signed by {signer}", signed_at=sig.self_reported_timestamp, signer=signer)


def load_certificates(path: str | Path) -> list[asn1_x509.Certificate]:
    return list(load_certs_from_pemder([str(path)]))


def embedded_file(pdf: bytes, name: str) -> bytes:
    """The bytes of the file attached under that name (KeyError if there is none)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    names = reader.root.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", [])
    for i in range(0, len(names) - 1, 2):
        if str(names[i]) == name:
            return names[i + 1].get_object()["/EF"]["/F"].get_object().data
    raise KeyError(name)
