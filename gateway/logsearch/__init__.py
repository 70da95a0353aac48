"""Reading the audit log for DPOs and auditors: search, export and online verification."""

from gateway.logsearch.routes import LogSearchController
from gateway.logsearch.service import EventQuery, LogSearch, open_export

__all__ = ["EventQuery", "LogSearch", "LogSearchController", "open_export"]
