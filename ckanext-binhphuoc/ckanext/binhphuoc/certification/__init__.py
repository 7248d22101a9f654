"""Certification of "standard digital data" (dữ liệu số đạt chuẩn, issue 15;
docs/certification.md). Plugin ``binhphuoc_certification``."""
