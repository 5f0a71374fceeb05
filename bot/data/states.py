"""The states of queued work, each defined once. Stored as their string values."""
from __future__ import annotations

from enum import StrEnum


class NoticeStatus(StrEnum):
    """A queued push or upstream callback (table `notices`)."""

    PENDING = "pending"  # waiting for its next attempt
    SENT = "sent"  # delivered (200, or 409: the retry key was already accepted)
    FAILED = "failed"  # refused for good, or out of attempts: LINE's answer kept in last_error


class NoticeChannel(StrEnum):
    LINE = "line"  # a LINE push
    UPSTREAM = "upstream"  # a status change POSTed to UPSTREAM_CALLBACK_URL


class InboxStatus(StrEnum):
    """A stored webhook event (table `inbox_events`)."""

    PENDING = "pending"  # stored, not handled yet
    HANDLED = "handled"  # the handler ran and committed; its reply waits to be sent
    REPLIED = "replied"  # LINE accepted the reply
    NO_REPLY = "no_reply"  # nothing to send (no reply token, or the handler had nothing to say)
    EXPIRED = "expired"  # the reply token was too old to use: not sent
    REFUSED = "refused"  # LINE refused the reply (e.g. "Invalid reply token"): its answer is kept
    # An attempt got no answer (it may have been accepted) and the one more try LINE refused as
    # "Invalid reply token" or also went unanswered: most likely shown, never sent again.
    UNCONFIRMED = "unconfirmed"  # delivered-unconfirmed (the column holds 12 characters)
    # A photo (or an image or PDF file) waiting to be fetched and read on the photo pool; then
    # PENDING, and its handler answers from what was read (table `photo_reads`).
    PHOTO = "photo"

    @classmethod
    def open(cls) -> tuple["InboxStatus", ...]:
        return (cls.PENDING, cls.HANDLED)

    @classmethod
    def waiting(cls) -> tuple["InboxStatus", ...]:
        """Not finished: to be handled, sent or read (the rows of the partial index ix_inbox_waiting)."""
        return (*cls.open(), cls.PHOTO)


class WorkerKind(StrEnum):
    INLINE = "inline"  # threads of a web process
    EXTERNAL = "external"  # a `tisi-pay worker` process


class PaymentStatus(StrEnum):
    """A payment the bank told us of (table `payments`)."""

    CONFIRMED = "confirmed"  # it paid its invoice
    REVERSED = "reversed"  # the bank took it back: the invoice is unpaid again
    DOUBLE_PAYMENT = "double_payment"  # refused (the invoice was already paid): kept for staff to refund


class SubscribeOutcome(StrEnum):
    SUBSCRIBED = "subscribed"
    ALREADY = "already"  # an active subscription to the same target exists
    LIMIT = "limit"  # the user has as many active subscriptions as we keep


class AuditAction(StrEnum):
    """What an audit entry records: a change of an invoice's money state (table `audit_entries`)."""

    CREATED = "created"
    AMOUNT_CHANGED = "amount_changed"  # an unpaid invoice re-imported with another amount
    PAID = "paid"
    REVERSED = "reversed"  # the bank took the payment back: unpaid again
    CANCELLED = "cancelled"
    DOUBLE_PAYMENT = "double_payment"  # a second payment, refused; the invoice is unchanged


class ChainKind(StrEnum):
    """What a link of the audit chain points at (table `chain_links`)."""

    AUDIT = "audit"  # an audit entry
    BANK = "bank"  # a bank message, as received and answered
    STATEMENT = "statement"  # a reconciled bank statement and its outcomes
    RECEIPT = "receipt"  # a signed receipt PDF: its SHA-256, number and amount
    STAFF = "staff"  # something a member of staff did in the console (or an account change)


class ReceiptVariant(StrEnum):
    """Which rendering of a receipt a document is (table `receipt_documents`)."""

    ISSUED = "issued"  # the receipt as issued with the payment
    VOID = "void"  # the same receipt marked ยกเลิก after the bank reversed the payment


class ReconcileOutcome(StrEnum):
    """One line of a reconciliation report: a statement record against the payments we confirmed."""

    MATCHED = "matched"
    MATCHED_REVERSAL = "matched_reversal"
    AMOUNT_MISMATCH = "amount_mismatch"  # same references, another amount
    UNKNOWN_INVOICE = "unknown_invoice"  # the file pays an invoice we do not know
    IN_FILE_NOT_ONLINE = "in_file_not_online"  # the bank took a payment it never told us of
    REVERSAL_NOT_ONLINE = "reversal_not_online"
    ONLINE_NOT_IN_FILE = "online_not_in_file"  # confirmed to us, missing from the bank's file

    @property
    def balanced(self) -> bool:
        return self in (ReconcileOutcome.MATCHED, ReconcileOutcome.MATCHED_REVERSAL)


class StaffRole(StrEnum):
    """What a console account may do; each role may do what the ones before it may."""

    VIEWER = "viewer"  # read every page
    FINANCE = "finance"  # also retry stuck items, export payments, answer conversations
    ADMIN = "admin"  # also manage accounts

    def allows(self, needed: "StaffRole") -> bool:
        order = list(StaffRole)
        return order.index(self) >= order.index(needed)


class StaffAction(StrEnum):
    """What a staff action entry records (table `staff_actions`, each a link of the audit chain)."""

    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"  # wrong name, password or code; or a locked or disabled account
    LOCKED = "locked"  # the fifth failure in a row: refused for LOCK_MINUTES
    SIGNED_OUT = "signed_out"
    PASSWORD_CHANGED = "password_changed"
    ACCOUNT_ADDED = "account_added"
    ACCOUNT_DISABLED = "account_disabled"
    NOTICE_RETRIED = "notice_retried"
    ANSWER_PUSHED = "answer_pushed"  # a chat answer whose reply failed, sent again as a push
    EXPORTED = "exported"
    STATEMENT_IMPORTED = "statement_imported"  # a bank statement reconciled from the console
    DAY_CLOSED = "day_closed"  # finance closed a Bangkok day: its figures kept in the entry
    CONVERSATION_REPLIED = "conversation_replied"
    CONVERSATION_CLOSED = "conversation_closed"


class Speaker(StrEnum):
    """Who wrote a line of a conversation with staff (table `conversation_messages`)."""

    USER = "user"
    STAFF = "staff"


class SignInOutcome(StrEnum):
    """What a sign-in attempt at the console came to."""

    SIGNED_IN = "signed_in"
    NEW_PASSWORD = "new_password"  # right, with the one-time password: a new one must be set first
    WRONG = "wrong"  # name, password or code wrong (never said which)
    LOCKED = "locked"  # too many failures in a row: refused until locked_until
    DISABLED = "disabled"  # right, but the account was disabled


class InvoiceStatus(StrEnum):
    """An invoice's status (docs/integrators.md); EXPIRED is derived: unpaid after the due date."""

    UNPAID = "unpaid"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
