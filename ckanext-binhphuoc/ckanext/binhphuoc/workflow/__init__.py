"""Data-owner approval workflow (issue 4, R11–R14)."""
