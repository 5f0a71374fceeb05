"""ETDA's own checks of an e-Receipt: the v2.0 Receipt XSD and the Receipt Schematron, from
tests/fixtures/etda (copied unchanged from ../shared/fixtures/etda-schema; SOURCE.md there says
where ETDA's set comes from). ETDA writes its Schematron rules as `report`s: a report that fires
is an error, so both failed asserts and successful reports count."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree, isoschematron

ROOT = Path(__file__).parent / "fixtures" / "etda" / "ETDA"
XSD = ROOT / "data" / "standard" / "Receipt_CrossIndustryInvoice_2p0.xsd"
SCH = ROOT / "data" / "standard" / "Receipt_Schematron_2p0.sch"
EXAMPLE = ROOT / "ExampleFile-June2019" / "Example_Receipt_2p0_v1.xml"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@cache
def _schematron() -> isoschematron.Schematron:
    return isoschematron.Schematron(etree.parse(str(SCH)), store_report=True)


def problems(xml: bytes) -> list[str]:
    """Every XSD error and every Schematron rule that fires, one line each; [] when ETDA accepts it."""
    doc = etree.fromstring(xml)
    schema = _schema()
    out = [f"XSD line {e.line}: {e.message}" for e in schema.error_log] if not schema.validate(doc) else []
    schematron = _schematron()
    schematron.validate(doc)
    for fired in schematron.validation_report.getroot():
        if fired.tag in (f"{SVRL}failed-assert", f"{SVRL}successful-report"):
            text = " ".join("".join(fired.itertext()).split())
            out.append(f"Schematron {fired.get('location')}: {text[:300]}")
    return out
