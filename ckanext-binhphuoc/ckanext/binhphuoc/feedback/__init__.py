"""Error reports and complaints from users (issue 16, item 1, R27;
docs/feedback.md): plugin ``binhphuoc_feedback``."""
