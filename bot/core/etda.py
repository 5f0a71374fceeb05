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
# ETDA's Schematron allows a referenced document only of type T01 (a receipt this one replaces),
# so the invoice this receipt pays is named in a note
INVOICE_SUBJECT = "INVOICE_NO"
UNIT_ONE = "C62"  # UN/ECE Recommendation 20: "one" (a fee is paid once)

ET.register_namespace("rsm", RSM)
ET.register_namespace("ram", RAM)


@dataclass(frozen=True)
class IssuerAddress:
    """The seller's address as ETDA's Schematron wants it for a Thai seller: structured, with the
    codes of its lists (TISICityName: district, TISICitySubDivisionName: sub-district,
    ThaiISOCountrySubdivisionCode: province)."""

    building_number: str
    street: str | None
    subdistrict_code: str  # 6 digits
    district_code: str  # 4 digits
    province_code: str  # 2 digits
    postcode: str  # 5 digits


# สมอ., 75/42 ถนนพระรามที่ 6 แขวงทุ่งพญาไท เขตราชเทวี กรุงเทพมหานคร 10400
TISI_ADDRESS = IssuerAddress(building_number="75/42", street="ถนนพระรามที่ 6", subdistrict_code="103701",
                             district_code="1037", province_code="10", postcode="10400")


def issuer_address_from(text: str) -> IssuerAddress:
    """RECEIPT_ISSUER_ADDRESS: `building number | street | sub-district code | district code |
    province code | postcode` (the street may be empty); empty text: the Institute's address."""
    if not text.strip():
        return TISI_ADDRESS
    parts = [" ".join(p.split()) for p in text.split("|")]
    if len(parts) != 6:
        raise ValueError("six parts separated by |: building number | street | sub-district code | "
                         "district code | province code | postcode")
    building, street, sub, district, province, postcode = parts
    for value, digits, name in ((sub, 6, "sub-district code"), (district, 4, "district code"),
                                (province, 2, "province code"), (postcode, 5, "postcode")):
        if not (len(value) == digits and value.isascii() and value.isdigit()):
            raise ValueError(f"the {name} must be {digits} digits")
    if not building:
        raise ValueError("the building number is missing")
    return IssuerAddress(building, street or None, sub, district, province, postcode)


@dataclass(frozen=True)
class ReceiptXml:
    number: str
    issued_at: datetime
    paid_at: datetime
    seller_name: str
    seller_tax_id: str  # 13 digits
    seller_branch: str  # 5 digits, 00000 = head office
    seller_address: IssuerAddress
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
    buyer_address: str | None = None  # one line; ETDA wants it with its postcode, or not at all
    buyer_postcode: str | None = None


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    ns, name = tag.split(":")
    el = ET.SubElement(parent, f"{{{RSM if ns == 'rsm' else RAM}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def _tax_registration(party: ET.Element, tax_id: str, branch: str | None) -> None:
    """TXID: a juristic person's 13-digit tax ID and 5-digit branch, 18 digits; NIDN: a person's
    13-digit national ID (a tax ID that does not start with 0)."""
    if tax_id.startswith("0"):
        _sub(_sub(party, "ram:SpecifiedTaxRegistration"), "ram:ID", tax_id + (branch or HEAD_OFFICE), schemeID="TXID")
    else:
        _sub(_sub(party, "ram:SpecifiedTaxRegistration"), "ram:ID", tax_id, schemeID="NIDN")


def _seller(parent: ET.Element, r: ReceiptXml) -> None:
    party = _sub(parent, "ram:SellerTradeParty")
    _sub(party, "ram:Name", r.seller_name)
    _tax_registration(party, r.seller_tax_id, r.seller_branch)
    a = r.seller_address
    postal = _sub(party, "ram:PostalTradeAddress")
    _sub(postal, "ram:PostcodeCode", a.postcode)
    if a.street:
        _sub(postal, "ram:StreetName", a.street)
    _sub(postal, "ram:CityName", a.district_code)
    _sub(postal, "ram:CitySubDivisionName", a.subdistrict_code)
    _sub(postal, "ram:CountryID", "TH", schemeID="3166-1 alpha-2")
    _sub(postal, "ram:CountrySubDivisionID", a.province_code)
    _sub(postal, "ram:BuildingNumber", a.building_number)


def _buyer(parent: ET.Element, r: ReceiptXml) -> None:
    party = _sub(parent, "ram:BuyerTradeParty")
    _sub(party, "ram:Name", r.buyer_name)
    _tax_registration(party, r.buyer_tax_id, r.buyer_branch)
    if r.buyer_address and r.buyer_postcode:  # ETDA: an address of Thailand has its postcode
        postal = _sub(party, "ram:PostalTradeAddress")
        _sub(postal, "ram:PostcodeCode", r.buyer_postcode)
        _sub(postal, "ram:LineOne", r.buyer_address[:256])
        _sub(postal, "ram:CountryID", "TH", schemeID="3166-1 alpha-2")


def _time(moment: datetime) -> str:
    return to_bangkok(moment).isoformat(timespec="seconds")


def receipt_xml(r: ReceiptXml) -> bytes:
    """Elements in the order of ETDA's Receipt XSD v2.0. The document's date (IssueDateTime) is
    when the money was received; CreationDateTime when this file was made (issued or voided)."""
    root = ET.Element(f"{{{RSM}}}Receipt_CrossIndustryInvoice")
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE,
         schemeAgencyID="ETDA", schemeVersionID="v2.0")
    doc = _sub(root, "rsm:ExchangedDocument")
    _sub(doc, "ram:ID", r.number)
    _sub(doc, "ram:Name", "ใบเสร็จรับเงิน")
    _sub(doc, "ram:TypeCode", TYPE_RECEIPT)
    _sub(doc, "ram:IssueDateTime", _time(r.paid_at))
    _sub(doc, "ram:CreationDateTime", _time(r.issued_at))
    notes = [(INVOICE_SUBJECT, r.invoice_no), ("PAYMENT_CHANNEL", r.channel), ("BANK_REFERENCE", r.bank_ref),
             ("PAID_AT", _time(r.paid_at))]
    if r.void_reason is not None:
        notes.append((VOID_SUBJECT, r.void_reason))
    for subject, content in notes:
        note = _sub(doc, "ram:IncludedNote")
        _sub(note, "ram:Subject", subject)
        _sub(note, "ram:Content", content)
    trade = _sub(root, "rsm:SupplyChainTradeTransaction")
    agreement = _sub(trade, "ram:ApplicableHeaderTradeAgreement")
    _seller(agreement, r)
    _buyer(agreement, r)
    _sub(trade, "ram:ApplicableHeaderTradeDelivery")
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
    price = _sub(_sub(line, "ram:SpecifiedLineTradeAgreement"), "ram:GrossPriceProductTradePrice")
    _sub(price, "ram:ChargeAmount", amount)
    _sub(_sub(line, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", "1", unitCode=UNIT_ONE)
    line_totals = _sub(_sub(line, "ram:SpecifiedLineTradeSettlement"),
                       "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(line_totals, "ram:NetLineTotalAmount", amount)
    # the Institute's fees carry no VAT: the total with taxes is the net total
    _sub(line_totals, "ram:NetIncludingTaxesLineTotalAmount", amount)
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
        invoice_no=notes.get(INVOICE_SUBJECT) or "",
        bank_ref=notes.get("BANK_REFERENCE"),
        void_reason=notes.get(VOID_SUBJECT),
    )
