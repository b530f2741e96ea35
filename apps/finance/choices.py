from django.db import models


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


class JournalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"


class AFEType(models.TextChoices):
    DRILL = "drill", "Drilling"
    COMPLETE = "complete", "Completion"
    WORKOVER = "workover", "Workover"
    FACILITY = "facility", "Facility"


class AFEStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class CostClass(models.TextChoices):
    TANGIBLE = "tangible", "Tangible"
    INTANGIBLE = "intangible", "Intangible"


class SupplementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class CostSource(models.TextChoices):
    DDR = "ddr", "Daily drilling report"
    STOCK_ISSUE = "stock_issue", "Stock issue"
    STOCK_RETURN = "stock_return", "Stock return"
    LABOUR = "labour", "Labour (timesheet)"
    WORK_ORDER = "work_order", "Work order"
    INVOICE = "invoice", "Vendor invoice"
    MANUAL = "manual", "Manual"


class POStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued (committed)"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class InvoiceStatus(models.TextChoices):
    ENTERED = "entered", "Entered"
    POSTED = "posted", "Posted"
