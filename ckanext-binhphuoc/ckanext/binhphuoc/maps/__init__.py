"""Maps (BP §3.2.d): previews of GeoJSON files and of DataStore tables with
coordinate columns, the spatial coverage of a dataset on a map of the
province, and search by a chosen unit or a drawn rectangle. Leaflet comes
from node_modules/ (bin/setup-npm) and the base layer is the province
boundaries shipped as data (schemas/codelists/admin_boundaries.json); no
page loads anything from another host. docs/maps.md."""
