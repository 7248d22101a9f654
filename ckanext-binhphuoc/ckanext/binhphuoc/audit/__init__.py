"""binhphuoc_audit: the append-only audit trail and the checksum re-verification
(issue 21 item 4, R30; docs/security.md "Audit trail")."""
