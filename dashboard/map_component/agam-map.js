/*
 * Agam's Map page: a Streamlit component (protocol v1, no build step) drawing the union
 * layer with Leaflet. The geometry is fetched once as a cached TopoJSON file; Python sends
 * only small arguments (stages per union, layer classes, the picked district), so a rerun
 * or a district pick never resends the national layer. Every name shown is HTML-escaped.
 */
(function () {
  "use strict";

  var state = { ready: false, loading: null, map: null, last: {}, timing: {} };

  function mark(name) {  // milliseconds since the frame started, kept for the browser tests
    state.timing[name] = Math.round(performance.now());
    document.getElementById("map").setAttribute("data-timing", JSON.stringify(state.timing));
  }

  function send(type, data) {
    var message = Object.assign({ isStreamlitMessage: true, type: type }, data || {});
    window.parent.postMessage(message, "*");
  }

  function escapeHtml(text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function getJson(url) {
    // The browser's HTTP cache keeps the files (served "immutable"); this keeps the parsed
    // document for the life of the frame.
    state.json = state.json || {};
    if (!state.json[url]) {
      state.json[url] = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error(url + ": HTTP " + r.status); }
        return r.json();
      });
    }
    return state.json[url];
  }

  function nameOf(props, bn) {
    return (bn && props.b) ? props.b : props.n;
  }

  function parentName(names, code, bn) {
    var entry = names[code];
    if (!entry) { return ["", code]; }
    return [entry[0], (bn && entry[2]) ? entry[2] : entry[1]];
  }

  function tooltipHtml(props, args, names) {
    var bn = args.lang === "bn";
    var L_ = args.labels;
    var upazila = parentName(names, props.u, bn);
    var district = parentName(names, upazila[0], bn);
    var rows = [
      [L_.union, nameOf(props, bn)],
      [L_.upazila, upazila[1]],
      [L_.district, district[1]]
    ];
    var stage = (args.stages || {})[props.c];
    if (stage) { rows.push([L_.stage, args.stage_labels[stage] || stage]); }
    return "<div class='agam-tip'>" + rows.map(function (row) {
      return "<b>" + escapeHtml(row[0]) + ":</b> " + escapeHtml(row[1]);
    }).join("<br>") + "</div>";
  }

  function unionStyle(args) {
    var stages = args.stages || {};
    return function (feature) {
      var stage = stages[feature.properties.c];
      if (stage) {
        return { color: "#7f1d1d", weight: 0.6, fillColor: args.stage_colours[stage],
                 fillOpacity: 0.75 };
      }
      return { color: "#94a3b8", weight: 0.35, fillColor: "#fffdf7", fillOpacity: 1 };
    };
  }

  function addBasemap(args) {
    var map = state.map;
    if (args.tiles && args.tiles.url) {
      L.tileLayer(args.tiles.url, { attribution: args.tiles.attribution || "", maxZoom: 18 })
        .addTo(map);
    } else {
      // the shipped layers' credit, in the page's language (text, never markup)
      var credit = document.createElement("span");
      credit.textContent = args.credits || "";
      map.attributionControl.addAttribution(credit.outerHTML);
      getJson(args.basemap).then(function (doc) {
        L.geoJSON(doc, {
          pane: "basemap", interactive: false,
          style: { color: "#b8b2a7", weight: 0.8, fillColor: "#efece6", fillOpacity: 1 }
        }).addTo(map);
      }).catch(function (err) { console.warn(err); });
    }
  }

  function addBorders(topo) {
    var unions = topo.objects.unions;
    var names = topo.names || {};
    var districtOf = function (g) { return (names[g.properties.u] || [""])[0]; };
    var inner = topojson.mesh(topo, unions, function (a, b) {
      return a !== b && districtOf(a) !== districtOf(b);
    });
    var outer = topojson.mesh(topo, unions, function (a, b) { return a === b; });
    L.geoJSON(inner, { pane: "borders", interactive: false,
                       style: { color: "#475569", weight: 1, opacity: 0.8 } }).addTo(state.map);
    L.geoJSON(outer, { pane: "borders", interactive: false,
                       style: { color: "#334155", weight: 1.4 } }).addTo(state.map);
  }

  function bindUnion(feature, layer) {
    layer.bindTooltip(function () {
      return tooltipHtml(feature.properties, state.args, state.names);
    }, { sticky: true });
    layer.on("click", function () {
      send("streamlit:setComponentValue",
           { value: { code: feature.properties.c, at: Date.now() }, dataType: "json" });
    });
  }

  function drawUnions(args) {
    return getJson(args.geo).then(function (topo) {
      mark("geometry");
      state.topo = topo;
      state.names = topo.names || {};
      state.features = topojson.feature(topo, topo.objects.unions).features;
      state.unions = L.geoJSON(state.features, {
        style: unionStyle(args), onEachFeature: bindUnion
      }).addTo(state.map);
      mark("polygons");
      window.requestAnimationFrame(function () { addBorders(topo); mark("borders"); });
      state.control.addBaseLayer(state.unions, escapeHtml(args.labels.unions));
      document.getElementById("map").setAttribute("data-unions", state.features.length);
    });
  }

  function classLayer(spec) {
    var classes = spec.classes || "";
    return L.geoJSON(state.features, {
      style: function (feature) {
        var index = state.featureIndex[feature.properties.c];
        var cls = classes.charAt(index);
        if (cls === "" || cls === "-") {
          return { stroke: false, fillOpacity: 0 };
        }
        return { color: spec.colours[+cls], weight: 0.2, fillColor: spec.colours[+cls],
                 fillOpacity: 0.65 };
      },
      onEachFeature: function (feature, layer) {
        var index = state.featureIndex[feature.properties.c];
        var cls = classes.charAt(index);
        if (cls !== "" && cls !== "-") {
          layer.bindTooltip("<b>" + escapeHtml(nameOf(feature.properties, state.args.lang === "bn"))
            + "</b><br>" + escapeHtml(spec.legend[+cls]), { sticky: true });
        }
      }
    });
  }

  function geojsonLayer(spec) {
    var group = L.layerGroup();
    group.once("add", function () { fillGeojson(group, spec); });  // fetched when shown
    return group;
  }

  function fillGeojson(group, spec) {
    getJson(spec.url).then(function (doc) {
      L.geoJSON(doc, {
        style: function (f) { return f.properties.style || {}; },
        pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 3 }); },
        onEachFeature: function (f, layer) {
          if (f.properties.label) { layer.bindTooltip(escapeHtml(f.properties.label)); }
        }
      }).addTo(group);
    }).catch(function (err) { console.warn(err); });
  }

  function pointsLayer(spec) {
    var group = L.layerGroup();
    (spec.points || []).forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 5, color: "#1d4ed8", fillOpacity: 0.9 })
        .bindTooltip(escapeHtml(p.name)).addTo(group);
    });
    return group;
  }

  function setOverlays(args) {
    var key = JSON.stringify(args.overlays || []);
    if (state.last.overlays === key) { return; }
    state.last.overlays = key;
    (state.overlayLayers || []).forEach(function (layer) {
      state.control.removeLayer(layer);
      state.map.removeLayer(layer);
    });
    state.overlayLayers = [];
    (args.overlays || []).forEach(function (spec) {
      var layer = spec.kind === "classes" ? classLayer(spec)
        : spec.kind === "geojson" ? geojsonLayer(spec) : pointsLayer(spec);
      state.overlayLayers.push(layer);
      state.control.addOverlay(layer, escapeHtml(spec.label));
      if (spec.show) { layer.addTo(state.map); }
    });
  }

  function setLegend(args) {
    var key = JSON.stringify(args.legend || []);
    if (state.last.legend === key) { return; }
    state.last.legend = key;
    if (state.legend) { state.map.removeControl(state.legend); }
    state.legend = L.control({ position: "bottomleft" });
    state.legend.onAdd = function () {
      var div = L.DomUtil.create("div", "agam-legend");
      div.innerHTML = (args.legend || []).map(function (item) {
        return "<i style='background:" + escapeHtml(item.colour) + "'></i>" +
          escapeHtml(item.label);
      }).join("<br>");
      return div;
    };
    state.legend.addTo(state.map);
  }

  function setFocus(args) {
    var focus = args.focus;
    var key = JSON.stringify(focus || null);
    if (state.last.focus === key) { return; }
    state.last.focus = key;
    if (state.focusLayer) { state.map.removeLayer(state.focusLayer); state.focusLayer = null; }
    document.getElementById("map").setAttribute("data-focus", "");
    if (!focus) {
      state.map.fitBounds(args.bounds);
      return;
    }
    state.map.fitBounds(focus.bounds);
    getJson(focus.detail).then(function (topo) {
      if (state.last.focus !== key) { return; }
      state.focusLayer = L.geoJSON(topojson.feature(topo, topo.objects.unions), {
        style: function (feature) {
          var style = unionStyle(state.args)(feature);
          style.color = "#c2410c"; style.weight = 1.2;
          return style;
        },
        onEachFeature: bindUnion
      }).addTo(state.map);
      document.getElementById("map").setAttribute("data-focus", focus.code);
    }).catch(function (err) { console.warn(err); });
  }

  function restyle(args) {
    var key = JSON.stringify(args.stages || {});
    if (state.last.stages === key) { return; }
    state.last.stages = key;
    if (state.unions) { state.unions.setStyle(unionStyle(args)); }
  }

  function init(args) {
    var div = document.getElementById("map");
    div.style.height = args.height + "px";
    var map = L.map(div, { preferCanvas: true, zoomSnap: 0.25, attributionControl: true });
    state.map = map;
    // One canvas for every interactive layer (preferCanvas): a second canvas in the same pane
    // would sit on top and swallow the hover and click events of the unions below it.
    map.createPane("basemap").style.zIndex = 250;
    map.createPane("borders").style.zIndex = 420;
    map.getPane("borders").style.pointerEvents = "none";
    map.fitBounds(args.bounds);
    var scale = L.control.scale({ imperial: false });
    if (args.lang === "bn") {  // "100 km" -> "১০০ কিমি"
      var update = scale._updateScale;
      scale._updateScale = function (bar, text, ratio) {
        var local = text.replace(/\d/g, function (d) { return "০১২৩৪৫৬৭৮৯".charAt(+d); })
          .replace("km", args.labels.km || "km").replace(/ m$/, " " + (args.labels.m || "m"));
        update.call(this, bar, local, ratio);
      };
    }
    scale.addTo(map);
    state.control = L.control.layers({}, {}, { collapsed: false }).addTo(map);
    addBasemap(args);
    return drawUnions(args).then(function () {
      state.featureIndex = {};
      state.features.forEach(function (f, i) { state.featureIndex[f.properties.c] = i; });
      state.ready = true;
      div.setAttribute("data-ready", "1");
    });
  }

  function update(args) {
    state.args = args;
    restyle(args);
    setOverlays(args);
    setLegend(args);
    setFocus(args);
  }

  function render(args) {
    state.args = args;
    if (!state.loading) {
      mark("args");
      state.loading = Promise.resolve()
        .then(function () { return init(args); })
        .catch(function (err) {
          document.getElementById("map").textContent = String(err);
          throw err;
        });
    }
    state.loading.then(function () { update(state.args); });
    send("streamlit:setFrameHeight", { height: args.height });
  }

  window.addEventListener("message", function (event) {
    if (event.data && event.data.type === "streamlit:render") {
      render(event.data.args);
    }
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
