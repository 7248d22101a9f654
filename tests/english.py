"""English a Vietnamese page must not show, and raw internals it must not leak (issue 19).

One list, used by the rendered-page checks (tests/test_ui_vietnamese.py, CKAN's test app)
and the browser pages (tests/e2e/, Chromium): extend it here, never copy it.

``english_in(text)`` returns the phrases of ``ENGLISH`` found in ``text`` as whole words
(case-sensitive: they are UI labels), ``raw_in(text)`` the raw field names and states.
Pass the page's *visible* text (no scripts, styles or attribute values).
"""
from __future__ import annotations

import re

# Labels, buttons and messages of CKAN core and the pinned extensions found in English on
# the portal (outside probes, issue 19) plus their neighbours in the same templates.
ENGLISH = (
    "Add Filter", "Sort", "Follow", "Unfollow", "Followers", "Internal server error",
    "Not Found", "Forbidden", "harvests found", "Harvest", "Harvest Sources", "created resource view",
    "Search", "Search datasets", "Datasets", "Dataset", "Organizations", "Organization",
    "Groups", "Tags", "Formats", "Licenses", "Resources", "Resource", "Download", "Explore",
    "More information", "Preview", "Log in", "Login", "Register", "Sign up", "Password",
    "Username", "Remember me", "Forgot your password", "Activity Stream", "Activity",
    "Additional Info", "Field", "Value", "Source", "Author", "Maintainer", "Version",
    "State", "Last Updated", "Created", "License", "Add Dataset", "Edit", "Delete", "Manage",
    "Members", "About", "Home", "Data Explorer", "Show more", "Show less", "Previous", "Next",
    "Showing", "entries", "No matching records", "Loading", "Close", "Cancel", "Save",
    "Update", "Submit", "Order by", "Relevance", "Name Ascending", "Name Descending",
    "Last Modified", "Popular", "Clear All", "Remove", "View", "Views", "Data API",
    "Powered by", "Language", "Contact", "Required field", "Upload", "Link", "Filter",
    "Filters", "Page", "No datasets found", "Go to resource", "Access",
    "Datastore active", "Has views", "Package id", "Position", "Url type",
    # ckanext-harvest, the activity stream and the dataset form (found by
    # tests/test_ui_vietnamese.py)
    "Reharvest", "Harvest Jobs", "Job Report", "Last Harvest Job", "View full job report",
    "Not yet", "There is no description", "Jobs", "Running", "Frequency",
    "New Package", "Changed Package", "Deleted Package", "Open Database License",
    "Manual", "Monthly", "Weekly", "Daily", "Generic DCAT RDF Harvester",
)

# Raw field names and values a user must never see (resource pages, state labels).
RAW = (
    "datastore_active", "Datastore active", "Has views", "has_views", "Package id",
    "package_id", "Position", "Url type", "url_type", "Trạng thái: active",
    "legacy:", "(R1)", "(R2)", "(R3)", "(R4)", "(R5)", "(R6)", "(R7)", "(R8)", "(R9)",
    "True", "False", "None",
    # activity types as CKAN stores them (the selector of an activity stream)
    "new package", "changed package", "deleted package", "follow dataset",
    "new resource view", "follow organization", "follow group", "changed organization",
)


def _found(phrases, text):
    return sorted({p for p in phrases
                   if re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(p), text)})


def english_in(text: str) -> list[str]:
    """The phrases of ENGLISH that appear in ``text`` as whole words."""
    return _found(ENGLISH, text)


def raw_in(text: str) -> list[str]:
    """The raw internals of RAW that appear in ``text``."""
    return _found(RAW, text)
