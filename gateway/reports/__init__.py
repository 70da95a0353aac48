"""Reports for DPOs: GDPR Art. 30, the DSR register, access, integrity and PIPL."""

from gateway.reports.record import ProcessingRecord, load_record
from gateway.reports.routes import ReportController
from gateway.reports.service import REPORTS, KeptReports, Rendered, Reports, format_problem

__all__ = [
    "REPORTS",
    "KeptReports",
    "ProcessingRecord",
    "Rendered",
    "ReportController",
    "Reports",
    "format_problem",
    "load_record",
]
