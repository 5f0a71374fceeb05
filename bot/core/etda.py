"""The receipt's data as ETDA e-Tax Invoice & e-Receipt XML (ขมธอ. 3-2560, guideline ER3-2560,
v2.0): a `Receipt_CrossIndustryInvoice` of TypeCode T01 (ใบเสร็จรับเงิน), embedded in the receipt
PDF so that an accounting program reads the receipt without reading the page. Fields, and how a
void receipt is marked, in docs/integrators.md ("The receipt's XML"). Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

from defusedxml import ElementTree as SafeET

from .dates import to_bangkok

RSM = "urn:etda:uncefact:data:standard:Receipt_CrossIndustryInvoice:2"
RAM = "urn:etda:uncefact:data:standard:Receipt_ReusableAggregateBusinessInformationEntity:2"
GUIDELINE = "ER3-2560"
TYPE_RECEIPT = "T01"  # ใบรับ / ใบเสร็จรับเงิน (the receipt Schematron, RCT-Document-001)
HEAD_OFFICE = "00000"
FILE_NAME = "ETDA-receipt.xml"
VOID_SUBJECT = "VOID"  # an IncludedNote of a void receipt: its content is the reason

ET.register_namespace("rsm", RSM)
ET.register_namespace("ram", RAM)


@dataclass(frozen=True)
class ReceiptXml:
    number: str
    issued_at: datetime
    paid_at: datetime
    seller_name: str
    seller_tax_id: str  # 13 digits
    seller_branch: str  # 5 digits, 00000 = head office
    seller_address: str
    buyer_name: str
    buyer_tax_id: str
    buyer_branch: str | None  # None = head office
    invoice_no: str
    license_no: str | None
    fee_code: str
    fee_name: str
    amount: Decimal
    channel: str
    bank_ref: str
    void_reason: str | None = None  # set on the void rendering


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    ns, name = tag.split(":")
    el = ET.SubElement(parent, f"{{{RSM if ns == 'rsm' else RAM}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def _party(parent: ET.Element, tag: str, name: str, tax_id: str, branch: str, address: str | None) -> None:
    party = _sub(parent, tag)
    _sub(party, "ram:Name", name)
    # TXID: the 13-digit tax ID and the 5-digit branch, 18 digits (ETDA's scheme).
    _sub(_sub(party, "ram:SpecifiedTaxRegistration"), "ram:ID", tax_id + branch, schemeID="TXID")
    postal = _sub(party, "ram:PostalTradeAddress")
    if address:
        _sub(postal, "ram:LineOne", address)
    _sub(postal, "ram:CountryID", "TH", schemeID="3166-1 alpha-2")


def _time(moment: datetime) -> str:
    return to_bangkok(moment).isoformat(timespec="seconds")


def receipt_xml(r: ReceiptXml) -> bytes:
    root = ET.Element(f"{{{RSM}}}Receipt_CrossIndustryInvoice")
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE,
         schemeAgencyID="ETDA", schemeVersionID="v2.0")
    doc = _sub(root, "rsm:ExchangedDocument")
    _sub(doc, "ram:ID", r.number)
    _sub(doc, "ram:Name", "ใบเสร็จรับเงิน")
    _sub(doc, "ram:TypeCode", TYPE_RECEIPT)
    _sub(doc, "ram:IssueDateTime", _time(r.issued_at))
    for subject, content in (("PAYMENT_CHANNEL", r.channel), ("BANK_REFERENCE", r.bank_ref),
                             ("PAID_AT", _time(r.paid_at))):
        note = _sub(doc, "ram:IncludedNote")
        _sub(note, "ram:Subject", subject)
        _sub(note, "ram:Content", content)
    if r.void_reason is not None:
        note = _sub(doc, "ram:IncludedNote")
        _sub(note, "ram:Subject", VOID_SUBJECT)
        _sub(note, "ram:Content", r.void_reason)
    trade = _sub(root, "rsm:SupplyChainTradeTransaction")
    agreement = _sub(trade, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", r.seller_name, r.seller_tax_id, r.seller_branch, r.seller_address)
    _party(agreement, "ram:BuyerTradeParty", r.buyer_name, r.buyer_tax_id, r.buyer_branch or HEAD_OFFICE, None)
    invoice = _sub(agreement, "ram:AdditionalReferencedDocument")
    _sub(invoice, "ram:IssuerAssignedID", r.invoice_no)
    _sub(invoice, "ram:ReferenceTypeCode", "380")  # the invoice this receipt pays
    settlement = _sub(trade, "ram:ApplicableHeaderTradeSettlement")
    _sub(settlement, "ram:InvoiceCurrencyCode", "THB", listID="ISO 4217 3A")
    totals = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    amount = f"{r.amount:.2f}"
    _sub(totals, "ram:LineTotalAmount", amount)
    _sub(totals, "ram:GrandTotalAmount", amount)
    line = _sub(trade, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(line, "ram:AssociatedDocumentLineDocument"), "ram:LineID", "1")
    product = _sub(line, "ram:SpecifiedTradeProduct")
    _sub(product, "ram:ID", r.fee_code)
    _sub(product, "ram:Name", r.fee_name + (f" ({r.license_no})" if r.license_no else ""))
    line_totals = _sub(_sub(line, "ram:SpecifiedLineTradeSettlement"),
                       "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(line_totals, "ram:NetLineTotalAmount", amount)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True))


@dataclass(frozen=True)
class ReadReceipt:
    number: str
    type_code: str
    amount: Decimal
    seller_tax: str  # 18 digits
    buyer_tax: str
    invoice_no: str
    bank_ref: str | None
    void_reason: str | None


def read_receipt_xml(data: bytes) -> ReadReceipt:
    """The fields `receipt verify` and the tests compare; ValueError if it is not our receipt XML."""
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises its own types for entities and the like
        raise ValueError(f"the embedded XML does not parse: {exc}") from None
    if root.tag != f"{{{RSM}}}Receipt_CrossIndustryInvoice":
        raise ValueError("the embedded XML is not an ETDA receipt")
    ns = {"rsm": RSM, "ram": RAM}

    def text(path: str) -> str:
        el = root.find(path, ns)
        if el is None or el.text is None:
            raise ValueError(f"the embedded XML has no {path.rsplit('/', 1)[-1]}")
        return str(el.text).strip()

    notes = {n.findtext("ram:Subject", "", ns): n.findtext("ram:Content", "", ns)
             for n in root.findall("rsm:ExchangedDocument/ram:IncludedNote", ns)}
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
    return ReadReceipt(
        number=text("rsm:ExchangedDocument/ram:ID"),
        type_code=text("rsm:ExchangedDocument/ram:TypeCode"),
        amount=Decimal(text("rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
                            "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount")),
        seller_tax=text(f"{agreement}/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"),
        buyer_tax=text(f"{agreement}/ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"),
        invoice_no=text(f"{agreement}/ram:AdditionalReferencedDocument/ram:IssuerAssignedID"),
        bank_ref=notes.get("BANK_REFERENCE"),
        void_reason=notes.get(VOID_SUBJECT),
    )
