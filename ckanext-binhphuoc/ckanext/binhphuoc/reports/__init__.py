"""Reports of the province (issue 16, items 5–7): the annual evaluation
report, the public catalogue of the province's digital data, their pages
and charts."""
