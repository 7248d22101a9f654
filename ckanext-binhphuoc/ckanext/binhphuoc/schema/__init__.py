"""Vietnamese metadata: schemas, code lists, validators, citation (issue 3)."""
