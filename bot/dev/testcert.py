"""A self-signed certificate for signing receipts in the demo and the tests, named as a test
certificate so that nobody mistakes a receipt signed with it for one of the Institute's."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from bot.core.dates import utcnow
from bot.render.pades import SAMPLE_ORGANIZATION

TEST_COMMON_NAME = "TISI Pay TEST receipt signing - NOT the Institute's certificate"


def make_test_p12(path: Path, password: str, *, common_name: str = TEST_COMMON_NAME,
                  issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
                  organization: str = SAMPLE_ORGANIZATION, key_type: str = "rsa") -> x509.Certificate:
    """Write a PKCS#12 (key + certificate) to `path`; self-signed unless `issuer` (a CA) is given.
    RSA: an ECDSA key would make the signed receipt PDF 2.0 (`bot.render.pades`). Its organisation
    marks it as a test certificate, and receipts signed with it as samples."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) if key_type == "rsa"
        else ec.generate_private_key(ec.SECP256R1()))
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                         x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_cert, ca_key = issuer if issuer is not None else (None, key)
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(ca_cert.subject if ca_cert is not None else subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=issuer is None,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"tisi-pay-test", key, cert, [ca_cert] if ca_cert is not None else None,
        serialization.BestAvailableEncryption(password.encode())))
    return cert


def make_test_ca(common_name: str = "TISI Pay TEST root CA") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
