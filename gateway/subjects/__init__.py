"""Data subjects: their records, per-subject data keys, identifiers and links.

`SubjectKeys` is the service. The functions below it take the caller's connection, so
a workflow step (erasure, restriction, a DPO's link decision) changes a subject in the
same transaction as its own rows. Three tables are exported too: other stores join
against them (the read path fetches an order with its subject's wrapped key in one
query; erasure counts what it removes).
"""

from gateway.subjects.keycheck import check_keys
from gateway.subjects.rotation import RotationReport, pending, rewrap_all
from gateway.subjects.service import SubjectKey, SubjectKeys
from gateway.subjects.store import (
    Candidate,
    KeyRow,
    add_candidate_link,
    candidates,
    confirmed_neighbours,
    created_at,
    data_subjects,
    decide_link,
    delete_identifiers,
    get_link,
    identifiers_of,
    is_restricted,
    key_row,
    lift_restriction,
    list_links,
    restrict,
    subject_identifiers,
    subject_keys,
)

__all__ = [
    "Candidate",
    "KeyRow",
    "RotationReport",
    "SubjectKey",
    "SubjectKeys",
    "add_candidate_link",
    "candidates",
    "check_keys",
    "confirmed_neighbours",
    "created_at",
    "data_subjects",
    "decide_link",
    "delete_identifiers",
    "get_link",
    "identifiers_of",
    "is_restricted",
    "key_row",
    "lift_restriction",
    "list_links",
    "pending",
    "restrict",
    "rewrap_all",
    "subject_identifiers",
    "subject_keys",
]
