"""Fixtures of the large-file tests: the schema tests' dataset, organisation,
sysadmin and ``call`` (tests/schema/conftest.py)."""
from tests.schema.conftest import call, dataset_dict, org, sysadmin  # noqa: F401
