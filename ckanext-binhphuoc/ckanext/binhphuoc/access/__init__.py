"""Access levels of published data (issue 14): who may read a dataset's
files, DataStore rows and previews (``levels.may_read_data``) and the grants
that open non-open data to others (``grants``)."""
