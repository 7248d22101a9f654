/* Maps of the portal (docs/maps.md): Leaflet, served by the portal, draws the
 * province boundaries shipped with the portal (no tile server) and, on top:
 *   data-kind="geojson"  a GeoJSON file of the portal (resource preview);
 *   data-kind="points"   the rows of a DataStore table with coordinate columns,
 *                        read with datastore_search as the reader;
 *   data-kind="coverage" the units a dataset covers, highlighted;
 *   data-kind="search"   choose a province, or draw a rectangle, to filter the search.
 * Every string shown comes from the page (translated there). */
(function () {
  "use strict";

  var BASE = { color: "#6b7a86", weight: 1, fillColor: "#f7f9fa", fillOpacity: 1 };
  var REGION = { color: "#3d4f5c", weight: 1.5, fillColor: "#e3ecf2", fillOpacity: 1 };
  var HIGHLIGHT = { color: "#8a3b00", weight: 2, fillColor: "#e07b24", fillOpacity: 0.55 };
  var DATA = { color: "#005a9c", weight: 2, fillColor: "#2f86c9", fillOpacity: 0.35 };

  function status(el, text) {
    var box = el.parentNode.querySelector(".binhphuoc-map-status");
    if (box) { box.textContent = text; }
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      });
  }

  function newMap(el) {
    var map = L.map(el, { attributionControl: true, zoomSnap: 0.25, preferCanvas: false });
    map.createPane("binhphuoc-data");
    map.getPane("binhphuoc-data").style.zIndex = 450;
    map.attributionControl.setPrefix(false);
    return map;
  }

  function inRegion(feature, region) {
    return feature.properties.province === region.province;
  }

  function drawBase(map, cfg, styleOf) {
    return getJSON(cfg.boundaries).then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (f) { return styleOf ? styleOf(f) : (inRegion(f, cfg.region) ? REGION : BASE); },
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { sticky: true }); }
      }).addTo(map);
      map.attributionControl.addAttribution(cfg.text.attribution);
      return { data: data, layer: layer };
    });
  }

  function fit(map, bounds, options) {
    map.invalidateSize(false);  // the stylesheet may have sized the element after the map
    map.fitBounds(bounds, L.extend({ padding: [12, 12], animate: false }, options || {}));
  }

  function regionBounds(base, region) {
    var bounds = L.latLngBounds([]);
    base.layer.eachLayer(function (l) {
      if (inRegion(l.feature, region)) { bounds.extend(l.getBounds()); }
    });
    return bounds;
  }

  function pointLayer(feature, latlng) {
    return L.circleMarker(latlng, { pane: "binhphuoc-data", radius: 6, color: DATA.color,
      weight: 2, fillColor: DATA.fillColor, fillOpacity: 0.8 });
  }

  function popupOf(props) {
    var div = document.createElement("div");
    Object.keys(props || {}).slice(0, 12).forEach(function (k) {
      var row = document.createElement("div");
      var b = document.createElement("strong");
      b.textContent = k + ": ";
      row.appendChild(b);
      row.appendChild(document.createTextNode(String(props[k])));
      div.appendChild(row);
    });
    return div;
  }

  function finish(el, map, base, layer, count, cfg) {
    el.setAttribute("data-features", String(count));
    var b = layer && layer.getLayers().length ? layer.getBounds() : regionBounds(base, cfg.region);
    if (b.isValid()) { fit(map, b, { maxZoom: 13 }); }
    el.setAttribute("data-ready", "true");
  }

  function geojsonMap(el, cfg) {
    var map = newMap(el);
    map.setView([11.7, 106.9], 7);
    drawBase(map, cfg).then(function (base) {
      if (!cfg.url) {
        status(el, cfg.text.external);
        finish(el, map, base, null, 0, cfg);
        return;
      }
      return getJSON(cfg.url).then(function (data) {
        var layer = L.geoJSON(data, {
          pane: "binhphuoc-data", style: function () { return DATA; }, pointToLayer: pointLayer,
          onEachFeature: function (f, l) { l.bindPopup(popupOf(f.properties)); }
        }).addTo(map);
        var n = layer.getLayers().length;
        status(el, cfg.text.count.replace("{n}", n));
        finish(el, map, base, layer, n, cfg);
      });
    }).catch(function () { status(el, cfg.text.error); el.setAttribute("data-ready", "error"); });
  }

  function number(v) {
    if (v === null || v === undefined || v === "") { return NaN; }
    return typeof v === "number" ? v : parseFloat(String(v).replace(",", "."));
  }

  function pointsMap(el, cfg) {
    var map = newMap(el);
    map.setView([11.7, 106.9], 7);
    var url = cfg.api + "?" + new URLSearchParams({ resource_id: cfg.resource_id,
      limit: String(cfg.limit), fields: cfg.lat + "," + cfg.lon + ",_id" }).toString();
    drawBase(map, cfg).then(function (base) {
      return getJSON(url).then(function (body) {
        var layer = L.featureGroup().addTo(map);
        var skipped = 0;
        body.result.records.forEach(function (row) {
          var lat = number(row[cfg.lat]), lon = number(row[cfg.lon]);
          if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) { skipped++; return; }
          pointLayer(null, L.latLng(lat, lon)).bindPopup(popupOf(row)).addTo(layer);
        });
        var n = layer.getLayers().length;
        var text = cfg.text.points.replace("{n}", n).replace("{total}", body.result.total);
        if (skipped) { text += " " + cfg.text.skipped.replace("{n}", skipped); }
        status(el, text);
        finish(el, map, base, layer, n, cfg);
      });
    }).catch(function () { status(el, cfg.text.error); el.setAttribute("data-ready", "error"); });
  }

  function covered(f, cov) {
    return cov.legacy.indexOf(f.properties.legacy) >= 0 || cov.province.indexOf(f.properties.province) >= 0;
  }

  function coverageMap(el, cfg) {
    var map = newMap(el);
    map.setView([11.7, 106.9], 7);
    drawBase(map, cfg, function (f) {
      return covered(f, cfg.coverage) ? L.extend({ className: "binhphuoc-covered" }, HIGHLIGHT)
        : (inRegion(f, cfg.region) ? REGION : BASE);
    }).then(function (base) {
      var bounds = L.latLngBounds([]);
      var n = 0;
      base.layer.eachLayer(function (l) {
        if (covered(l.feature, cfg.coverage)) { bounds.extend(l.getBounds()); n++; }
      });
      el.setAttribute("data-features", String(n));
      fit(map, bounds.isValid() ? bounds : regionBounds(base, cfg.region));
      el.setAttribute("data-ready", "true");
    }).catch(function () { status(el, cfg.text.error); el.setAttribute("data-ready", "error"); });
  }

  function go(params) {
    var url = new URL(window.location.href);
    Object.keys(params).forEach(function (k) {
      url.searchParams.delete(k);
      if (params[k] !== null) { url.searchParams.append(k, params[k]); }
    });
    url.searchParams.delete("page");
    window.location.assign(url.toString());
  }

  function drawMode(map, el, button, cfg) {
    var start = null, rect = null, on = false;
    function stop() {
      on = false; start = null;
      map.dragging.enable();
      L.DomUtil.removeClass(el, "binhphuoc-map-drawing");
      button.setAttribute("aria-pressed", "false");
    }
    button.addEventListener("click", function () {
      if (on) { stop(); return; }
      on = true;
      map.dragging.disable();
      L.DomUtil.addClass(el, "binhphuoc-map-drawing");
      button.setAttribute("aria-pressed", "true");
      status(el, cfg.text.draw_hint);
    });
    map.on("mousedown", function (e) {
      if (!on) { return; }
      start = e.latlng;
      if (rect) { map.removeLayer(rect); }
      rect = L.rectangle(L.latLngBounds(start, start), { pane: "binhphuoc-data", color: DATA.color,
        weight: 2, fillOpacity: 0.1 }).addTo(map);
    });
    map.on("mousemove", function (e) {
      if (on && start && rect) { rect.setBounds(L.latLngBounds(start, e.latlng)); }
    });
    map.on("mouseup", function (e) {
      if (!on || !start) { return; }
      var b = L.latLngBounds(start, e.latlng);
      stop();
      if (b.getWest() === b.getEast() || b.getSouth() === b.getNorth()) { return; }
      go({ ext_bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(4); }).join(","),
           vn_province: null });
    });
  }

  function searchMap(el, cfg) {
    var map = newMap(el);
    map.setView([11.7, 106.9], 7);
    var chosen = cfg.state.provinces || [];
    drawBase(map, cfg, function (f) {
      return chosen.indexOf(f.properties.province) >= 0 ? L.extend({ className: "binhphuoc-chosen" }, HIGHLIGHT)
        : (inRegion(f, cfg.region) ? REGION : BASE);
    }).then(function (base) {
      base.layer.eachLayer(function (l) {
        var code = l.feature.properties.province;
        if (l._path) {
          l._path.setAttribute("data-province", code);
          l._path.setAttribute("data-legacy", l.feature.properties.legacy);
        }
        l.on("click", function () {
          if (L.DomUtil.hasClass(el, "binhphuoc-map-drawing")) { return; }
          go({ vn_province: code, ext_bbox: null });
        });
      });
      var bounds = L.latLngBounds([]);
      base.layer.eachLayer(function (l) {
        if (chosen.indexOf(l.feature.properties.province) >= 0) { bounds.extend(l.getBounds()); }
      });
      if (cfg.state.bbox) {
        var p = cfg.state.bbox.split(",").map(parseFloat);
        if (p.length === 4 && p.every(isFinite)) {
          var b = L.latLngBounds([p[1], p[0]], [p[3], p[2]]);
          L.rectangle(b, { pane: "binhphuoc-data", color: DATA.color, weight: 2, fillOpacity: 0.1,
            interactive: false }).addTo(map);
          bounds.extend(b);
        }
      }
      fit(map, bounds.isValid() ? bounds : regionBounds(base, cfg.region), { maxZoom: 7 });
      var button = el.parentNode.querySelector("[data-map-draw]");
      if (button) { drawMode(map, el, button, cfg); }
      el.setAttribute("data-ready", "true");
    }).catch(function () { status(el, cfg.text.error); el.setAttribute("data-ready", "error"); });
  }

  var KINDS = { geojson: geojsonMap, points: pointsMap, coverage: coverageMap, search: searchMap };

  function init() {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll("[data-binhphuoc-map]").forEach(function (el) {
      var kind = KINDS[el.getAttribute("data-kind")];
      if (!kind || el.getAttribute("data-ready")) { return; }
      kind(el, JSON.parse(el.getAttribute("data-map")));
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
