/*
 * vigia analyst map (docs/formats/server.md, "Map page"). Everything comes
 * from this server: country outlines from world-atlas (TopoJSON turned into
 * GeoJSON by topojson-client), a graticule drawn here, the sites released to
 * the viewer (/map/sites.geojson, the server's release path) and the banner of
 * what is shown (/map/banner.json) at the top and bottom. No tiles, no fonts,
 * no external URL. Data are put in the page as text (textContent), never HTML.
 *
 * #vigia-status records what was drawn, for the browser test (tests/browser):
 * data-state ("ready" or "error"), data-sites (markers drawn), data-ids.
 */
(function () {
  'use strict';

  var STATE_COLOURS = {
    confirmed: '#d7191c',
    candidate: '#fdae61',
    rejected: '#7f7f7f'
  };

  var statusEl = document.getElementById('vigia-status');
  var banners = [document.getElementById('banner-top'), document.getElementById('banner-bottom')];

  function setBanner(text, cls) {
    banners.forEach(function (b) {
      b.textContent = text;
      b.className = 'banner ' + cls;
    });
  }

  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
      if (!r.ok) {
        throw new Error(url + ': HTTP ' + r.status);
      }
      return r.json();
    });
  }

  function row(dl, term, value) {
    var dt = document.createElement('dt');
    var dd = document.createElement('dd');
    dt.textContent = term;
    dd.textContent = value === undefined || value === null ? '' : String(value);
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function popup(f) {
    var p = f.properties || {};
    var dl = document.createElement('dl');
    dl.className = 'site-popup';
    row(dl, 'site', f.id);
    row(dl, 'state', p.state);
    row(dl, 'confidence', typeof p.confidence === 'number' ? p.confidence.toFixed(3) : p.confidence);
    row(dl, 'CE90 (m)', typeof p.ce90_m === 'number' ? p.ce90_m.toFixed(1) : p.ce90_m);
    row(dl, 'evidence', Array.isArray(p.evidence) ? p.evidence.join(', ') : p.evidence);
    row(dl, 'marking', p.marking);
    return dl;
  }

  function graticule(step) {
    var lines = [];
    var lon;
    var lat;
    var i;
    for (lon = -180; lon <= 180; lon += step) {
      var mer = [];
      for (i = -90; i <= 90; i += 2) {
        mer.push([i, lon]);
      }
      lines.push(mer);
    }
    for (lat = -90 + step; lat < 90; lat += step) {
      lines.push([[lat, -180], [lat, 180]]);
    }
    return L.polyline(lines, {color: '#8aa4bf', weight: 0.6, opacity: 0.8, interactive: false});
  }

  var map = L.map('map', {
    attributionControl: false, /* its prefix links to leafletjs.com: the credit is in the page */
    worldCopyJump: false,
    minZoom: 1,
    maxZoom: 18,
    preferCanvas: false
  }).setView([20, 0], 2);

  graticule(15).addTo(map);

  var countries = getJSON('/map/static/countries-110m.json').then(function (topo) {
    var geo = topojson.feature(topo, topo.objects.countries);
    L.geoJSON(geo, {
      style: {color: '#556', weight: 0.8, fillColor: '#f2efe6', fillOpacity: 1},
      interactive: false
    }).addTo(map);
    graticule(15).addTo(map).bringToFront();
  });

  var sites = getJSON('/map/sites.geojson').then(function (fc) {
    var ids = [];
    var layer = L.geoJSON(fc, {
      pointToLayer: function (f, latlng) {
        var state = (f.properties && f.properties.state) || 'confirmed';
        return L.circleMarker(latlng, {
          radius: 7,
          color: '#222',
          weight: 1,
          fillColor: STATE_COLOURS[state] || '#2b83ba',
          fillOpacity: 0.9
        });
      },
      onEachFeature: function (f, l) {
        ids.push(String(f.id));
        l.bindPopup(popup(f));
      }
    }).addTo(map);
    if (ids.length) {
      map.fitBounds(layer.getBounds(), {padding: [40, 40], maxZoom: 12});
    }
    return ids;
  });

  var banner = getJSON('/map/banner.json').then(function (b) {
    setBanner(b.banner, b.classification === 'UNCLASSIFIED' ? 'banner-unclassified' : 'banner-classified');
    return b;
  });

  Promise.all([countries, sites, banner]).then(function (r) {
    var ids = r[1];
    statusEl.setAttribute('data-sites', String(ids.length));
    statusEl.setAttribute('data-ids', ids.join(','));
    statusEl.setAttribute('data-banner', r[2].banner);
    statusEl.setAttribute('data-state', 'ready');
    statusEl.textContent = 'sites=' + ids.length + ' ids=' + ids.join(',');
  }).catch(function (e) {
    setBanner('MARKING UNAVAILABLE: DO NOT USE (' + e.message + ')', 'banner-error');
    statusEl.setAttribute('data-state', 'error');
    statusEl.textContent = 'error: ' + e.message;
  });
}());
