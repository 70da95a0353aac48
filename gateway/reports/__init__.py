"""Reports for DPOs: GDPR Art. 30, the DSR register, access, integrity and PIPL."""

from gateway.reports.record import ProcessingRecord, load_record
from gateway.reports.routes import ReportController, report_response
from gateway.reports.service import REPORTS, KeptReports, Rendered, Reports, format_problem
from gateway.reports.text import title as report_title

__all__ = [
    "REPORTS",
    "KeptReports",
    "ProcessingRecord",
    "Rendered",
    "ReportController",
    "Reports",
    "format_problem",
    "load_record",
    "report_response",
    "report_title",
]
