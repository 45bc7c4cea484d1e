// The live dashboard of `membench serve`: polls GET /api/diagnostics once a second, keeps
// the last five minutes (backfilled on load from GET /api/history, the server's own last
// five minutes, so a page opened late or reloaded shows the whole window), and draws memory like the charts of `membench run`: Allocated
// (live heap, counted by the server's allocator wrapper) in red, Resident (RSS) in blue,
// the allocator's own resident bytes lighter, and triangles where memory really went back
// to the OS. Every number is the server's own; rates are deltas of its cumulative counters
// between two polls, divided by the server's own uptime difference (not the browser's
// clock, which includes network and timer jitter).
//
// Below it, in its own dashed panel, the MODELLED .NET GC lens (`--gc-model`): where .NET
// would have collected, fed with this server's requests. Not a measurement: hollow
// triangles and a dashed line on their own axis, labelled as a model; nothing of it is
// drawn on the measured chart, and with `--gc-model none` nothing of it is drawn at all.
(() => {
  "use strict";

  /** Milliseconds between the end of one poll and the start of the next. */
  const POLL_INTERVAL_MS = 1000;
  /** Seconds of history kept and drawn. */
  const WINDOW_S = 300;
  /** Bytes per MB: 10^6, like the article's charts and the PNG charts of `membench run`. */
  const MB = 1_000_000;

  const COLORS = {
    // The colours of the PNG charts of `membench run` (src/report/chart).
    allocated: "#dc0000",
    resident: "#003cdc",
    allocatorResident: "#64a0f0",
    purge: "#191919",
    collect: "#7a2fb0",
  };

  /** The modelled lens, in the colours of the PNG charts' modelled lens. */
  const MODELLED = {
    gen0: "#00a03c",
    gen1: "#f08200",
    gen2: "#000000",
    heap: "#9632b4",
  };

  // Friendly names of what the endpoints hold (keys of `leaks` in the diagnostics JSON).
  const HOLDERS = [
    ["staticstring", "static list", "/api/staticstring", "leak"],
    ["cache_unbounded", "cache, no expiry", "/api/cache/unbounded", "leak"],
    ["clientleak", "clients never closed", "/api/clientleak", "leak"],
    ["fileprovider", "watchers never released", "/api/fileprovider", "leak"],
    ["cache_expiring", "cache with expiry", "/api/cache/expiring", "bounded"],
    ["pooled_buffers", "buffer pool", "/api/pooledarray", "bounded"],
  ];

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- formatting

  const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const oneDecimal = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });

  /** Bytes as MB with one decimal, e.g. "12.3". */
  const mb = (bytes) => oneDecimal.format(bytes / MB);
  /** A rate or count, one decimal below 10, none above. */
  const rate = (value) => (Math.abs(value) < 10 ? oneDecimal : integer).format(value);

  function duration(seconds) {
    const s = Math.floor(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (h > 0) return `${h} h ${m} min`;
    if (m > 0) return `${m} min ${s % 60} s`;
    return `${s} s`;
  }

  /** Text of an element, built from parts where `code` spans are marked with backticks. */
  function withCode(element, text) {
    text.split("`").forEach((part, index) => {
      if (index % 2 === 1) {
        const code = document.createElement("code");
        code.textContent = part;
        element.append(code);
      } else if (part) {
        element.append(part);
      }
    });
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.append(td);
    return td;
  }

  // ---------------------------------------------------------------- the series

  /** Column arrays in uPlot's layout: x (unix seconds) first, then one array per series. */
  const series = {
    time: [],
    allocatedMb: [],
    residentMb: [],
    allocatorResidentMb: [],
    purges: [], // allocator purges since the previous poll
    collects: [], // explicit collects since the previous poll
    cpuPercent: [],
    rps: [],
    allocsPerSecond: [],
    allocBytesPerSecond: [],
  };

  /** The previous diagnostics document, for deltas. */
  let previous = null;
  /** False when the allocator counts no purges of its own (glibc): only collects show. */
  let purgesCounted = true;

  /** The modelled lens's ticks (250 ms each), in the page's time base. Per tick: the heap
   *  line as its peak then its end value (a sawtooth), and the collections counted once
   *  each, at their highest generation (the server counts like GC.CollectionCount, where
   *  a gen2 also counts for gen1 and gen0). */
  const modelled = {
    time: [],
    heapMb: [],
    gen0Only: [], // collections whose highest generation was gen0, per tick
    gen1Only: [],
    gen2: [],
    /** The last tick taken from the server (`tick` numbers only grow). */
    lastTick: 0,
  };

  function clearModelled() {
    for (const column of Object.values(modelled)) if (Array.isArray(column)) column.length = 0;
    modelled.lastTick = 0;
  }

  function clearSeries() {
    for (const column of Object.values(series)) column.length = 0;
    clearModelled();
  }

  /** Takes the ticks the server has not given before. A tick's time on the page is the
   *  poll's time minus how long before the server's answer it ended (server uptime). */
  function ingestModelled(d, nowS) {
    const lens = d.modelled_gc;
    if (!lens) {
      clearModelled();
      return;
    }
    for (const t of lens.recent_ticks) {
      if (t.tick <= modelled.lastTick) continue;
      modelled.lastTick = t.tick;
      const x = nowS - (d.uptime_s - t.uptime_s);
      if (t.managed_heap_peak_bytes > t.managed_heap_bytes) {
        // The tooth: its peak just before the end of the tick (x must keep growing).
        pushModelled(x - 0.001, t.managed_heap_peak_bytes / MB, 0, 0, 0);
      }
      pushModelled(x, t.managed_heap_bytes / MB, t.gen0 - t.gen1, t.gen1 - t.gen2, t.gen2);
    }
    // Like the measured series, the window starts at the page's first poll: the ticks the
    // server still remembers from before it are not drawn (nor counted in the window).
    const oldest = Math.max(nowS - WINDOW_S, series.time.length ? series.time[0] : nowS);
    let drop = 0;
    while (drop < modelled.time.length && modelled.time[drop] < oldest) drop++;
    if (drop > 0) {
      for (const column of Object.values(modelled)) if (Array.isArray(column)) column.splice(0, drop);
    }
  }

  function pushModelled(x, heapMb, gen0Only, gen1Only, gen2) {
    modelled.time.push(x);
    modelled.heapMb.push(heapMb);
    modelled.gen0Only.push(gen0Only);
    modelled.gen1Only.push(gen1Only);
    modelled.gen2.push(gen2);
  }

  function trimSeries() {
    const oldest = series.time[series.time.length - 1] - WINDOW_S;
    let drop = 0;
    while (drop < series.time.length && series.time[drop] < oldest) drop++;
    if (drop > 0) for (const column of Object.values(series)) column.splice(0, drop);
  }

  const cpuSeconds = (d) => d.process.cpu_seconds;

  /** Adds one poll's document (or one sample of GET /api/history, which has the same
   *  fields) to the series at `nowS` (unix seconds); rates come from the previous one.
   *  A history sample carries no modelled lens: the lens's ticks come with the polls. */
  function ingest(d, nowS = Date.now() / 1000) {
    // A new pid or counters going backwards means a different server: start over.
    if (previous && (previous.pid !== d.pid || d.uptime_s <= previous.uptime_s)) {
      previous = null;
      clearSeries();
    }
    const stats = d.allocator_stats;
    let cpu = null;
    let rps = null;
    let allocs = null;
    let allocBytes = null;
    let purges = 0;
    let collects = 0;
    if (previous) {
      const dt = d.uptime_s - previous.uptime_s;
      cpu = (100 * (cpuSeconds(d) - cpuSeconds(previous))) / dt;
      rps = (d.requests_total - previous.requests_total) / dt;
      allocs = (d.heap.alloc_count - previous.heap.alloc_count) / dt;
      allocBytes = (d.heap.alloc_bytes - previous.heap.alloc_bytes) / dt;
      purges = Math.max(
        0,
        (stats.purge_events_total ?? 0) - (previous.allocator_stats.purge_events_total ?? 0),
      );
      collects = Math.max(
        0,
        stats.collect_calls_total - previous.allocator_stats.collect_calls_total,
      );
    }
    purgesCounted = stats.purge_events_total != null;
    if ("modelled_gc" in d) ingestModelled(d, nowS);
    series.time.push(nowS);
    series.allocatedMb.push(d.heap.live_bytes / MB);
    series.residentMb.push(d.process.rss_bytes / MB);
    series.allocatorResidentMb.push(
      stats.resident_bytes == null ? null : stats.resident_bytes / MB,
    );
    series.purges.push(purges);
    series.collects.push(collects);
    series.cpuPercent.push(cpu);
    series.rps.push(rps);
    series.allocsPerSecond.push(allocs);
    series.allocBytesPerSecond.push(allocBytes);
    trimSeries();
    previous = d;
  }

  const sum = (values) => values.reduce((total, v) => total + (v ?? 0), 0);

  function average(values) {
    const known = values.filter((v) => v != null && Number.isFinite(v));
    return known.length ? sum(known) / known.length : null;
  }

  // ---------------------------------------------------------------- the chart

  /** Draws the reclaim triangles on the Resident line: filled dark for the allocator's
   *  own purges, purple outline for explicit collects (POST /api/collect), one triangle per
   *  poll. When markers crowd (mimalloc purges nearly every second) the triangles narrow,
   *  and the counts are written only if none would overlap: all or nothing, like the PNG
   *  charts, because a partial set of labels reads as if the others were single events. */
  function drawReclaimMarkers(u) {
    const ctx = u.ctx;
    const ratio = uPlot.pxRatio;
    const markers = [];
    for (let i = 0; i < series.time.length; i++) {
      const purges = series.purges[i];
      const collects = series.collects[i];
      if (!purges && !collects) continue;
      markers.push({
        x: u.valToPos(series.time[i], "x", true),
        tip: u.valToPos(series.residentMb[i], "mb", true) - 3 * ratio,
        purges,
        collects,
      });
    }
    if (!markers.length) return;
    let spacing = Infinity;
    for (let k = 1; k < markers.length; k++) {
      spacing = Math.min(spacing, markers[k].x - markers[k - 1].x);
    }
    const half = Math.max(3 * ratio, Math.min(10 * ratio, spacing / 2 - ratio));
    const height = half * 1.7;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left - half, 0, u.bbox.width + 2 * half, u.bbox.top + u.bbox.height);
    ctx.clip();
    ctx.lineWidth = Math.min(2.5 * ratio, half / 3);
    for (const { x, tip, purges, collects } of markers) {
      ctx.beginPath();
      ctx.moveTo(x, tip);
      ctx.lineTo(x - half, tip - height);
      ctx.lineTo(x + half, tip - height);
      ctx.closePath();
      if (purges) {
        ctx.fillStyle = COLORS.purge;
        ctx.fill();
      }
      ctx.strokeStyle = collects ? COLORS.collect : COLORS.purge;
      ctx.stroke();
    }
    // Several events within one poll: the triangle is labelled with how many.
    ctx.font = `bold ${15 * ratio}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    const labels = markers
      .filter((m) => m.purges + m.collects > 1)
      .map((m) => ({ ...m, text: integer.format(m.purges + m.collects) }))
      .map((m) => ({ ...m, width: ctx.measureText(m.text).width }));
    const gap = 6 * ratio;
    const overlap = labels.some(
      (m, k) => k > 0 && m.x - labels[k - 1].x < (m.width + labels[k - 1].width) / 2 + gap,
    );
    if (!overlap) {
      ctx.fillStyle = "#1b1b1b";
      for (const { x, tip, text } of labels) ctx.fillText(text, x, tip - height - 2 * ratio);
    }
    ctx.restore();
  }

  const axisFont = "15px system-ui, sans-serif";

  /** The time axis both charts share: whole seconds only (polls are a second apart), and
   * room for "HH:MM:SS". */
  function timeAxis(gridStroke) {
    return {
      font: axisFont,
      stroke: "#333",
      grid: { stroke: gridStroke },
      ticks: { stroke: "#ccc" },
      space: 90,
      incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600],
      values: [
        // uPlot's tick table, largest increment first: [min incr, format, …].
        [60, "{HH}:{mm}", null, null, null, null, null, null, 0],
        [1, "{HH}:{mm}:{ss}", null, null, null, null, null, null, 0],
      ],
    };
  }

  /** A megabyte axis on `scale`: round steps only (no 2.5 MB ticks), a decimal when the
   * steps are small, and the same width on both charts so their plots line up. */
  function mbAxis(scale, label, stroke, gridStroke) {
    return {
      scale,
      font: axisFont,
      stroke,
      grid: { stroke: gridStroke },
      ticks: { stroke: "#ccc" },
      size: 70,
      label,
      labelFont: "bold 15px system-ui, sans-serif",
      labelSize: 26,
      incrs: [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      values: (u, ticks, axis, space, step) =>
        ticks.map((v) => (step < 1 ? oneDecimal : integer).format(v)),
    };
  }

  const chartEl = $("chart");

  function chartSize() {
    const width = Math.max(320, chartEl.clientWidth);
    const height = Math.max(260, Math.min(460, Math.round(window.innerHeight * 0.42)));
    return { width, height };
  }

  const chart = new uPlot(
    {
      ...chartSize(),
      legend: { show: false },
      // Room on the right for the last time label, on top for the reclaim markers' counts.
      padding: [18, 36, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 9 } },
      scales: {
        x: { time: true },
        mb: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] },
      },
      axes: [timeAxis("#e4e4e4"), mbAxis("mb", "MB", "#333", "#e4e4e4")],
      series: [
        {},
        { label: "Allocated", scale: "mb", stroke: COLORS.allocated, width: 3 },
        { label: "Resident", scale: "mb", stroke: COLORS.resident, width: 3 },
        {
          label: "Allocator resident",
          scale: "mb",
          stroke: COLORS.allocatorResident,
          width: 2,
          dash: [10, 6],
        },
      ],
      hooks: {
        draw: [drawReclaimMarkers],
        setCursor: [(u) => renderLegend(u.cursor.idx)],
      },
    },
    [[], [], [], []],
    chartEl,
  );

  window.addEventListener("resize", () => chart.setSize(chartSize()));

  // ---------------------------------------------------------------- the modelled lens

  /** Hollow triangles in three rows above the dashed heap line (gen0 lowest, gen2
   *  highest), like the PNG charts: a modelled marker never sits on a measured one, and
   *  each generation reads on its own. Ticks closer than a triangle's width are merged
   *  into one triangle (at their first tick) that stands for all their collections, and
   *  the counts are written above the triangles only if no two would overlap in the row:
   *  all or nothing, because a partial set of labels reads as if the others were single. */
  function drawModelledMarkers(u) {
    const ctx = u.ctx;
    const ratio = uPlot.pxRatio;
    const top = u.scales.heap.max;
    const half = 7 * ratio;
    const rows = [
      [modelled.gen0Only, MODELLED.gen0, top * 0.78],
      [modelled.gen1Only, MODELLED.gen1, top * 0.855],
      [modelled.gen2, MODELLED.gen2, top * 0.93],
    ];
    ctx.save();
    // The plot's width, and its height with the padding above (the labels' room).
    ctx.beginPath();
    ctx.rect(u.bbox.left - half, 0, u.bbox.width + 2 * half, u.bbox.top + u.bbox.height);
    ctx.clip();
    ctx.lineWidth = 2.5 * ratio;
    ctx.font = `bold ${13 * ratio}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    for (const [counts, color, rowMb] of rows) {
      const y = u.valToPos(rowMb, "heap", true);
      const markers = [];
      for (let i = 0; i < modelled.time.length; i++) {
        if (!counts[i]) continue;
        const x = u.valToPos(modelled.time[i], "x", true);
        const last = markers[markers.length - 1];
        if (last && x - last.x < 2.4 * half) last.count += counts[i];
        else markers.push({ x, count: counts[i] });
      }
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      for (const { x } of markers) {
        ctx.beginPath();
        ctx.moveTo(x, y + half);
        ctx.lineTo(x - half, y - half);
        ctx.lineTo(x + half, y - half);
        ctx.closePath();
        ctx.stroke();
      }
      const labels = markers
        .filter((m) => m.count > 1)
        .map((m) => ({ ...m, text: integer.format(m.count) }))
        .map((m) => ({ ...m, width: ctx.measureText(m.text).width }));
      const gap = 4 * ratio;
      const overlap = labels.some(
        (m, k) => k > 0 && m.x - labels[k - 1].x < (m.width + labels[k - 1].width) / 2 + gap,
      );
      if (!overlap) {
        for (const { x, text } of labels) ctx.fillText(text, x, y - half - 2 * ratio);
      }
    }
    ctx.restore();
  }

  const modelledEl = $("modelled-chart");

  function modelledSize() {
    const width = Math.max(320, modelledEl.clientWidth);
    const height = Math.max(200, Math.min(300, Math.round(window.innerHeight * 0.26)));
    return { width, height };
  }

  /** Built on the first answer that has the lens on, so with the lens off nothing
   *  modelled is ever drawn. */
  let modelledChart = null;

  function makeModelledChart() {
    return new uPlot(
      {
        ...modelledSize(),
        legend: { show: false },
        padding: [22, 36, 0, 0],
        cursor: { drag: { x: false, y: false }, points: { size: 9 } },
        scales: {
          // The measured chart's time range, so both read against the same clock.
          x: {
            time: true,
            range: (u, min, max) =>
              series.time.length >= 2
                ? [series.time[0], series.time[series.time.length - 1]]
                : [min, max],
          },
          // Its own axis: a model of another runtime must not rescale the real series.
          // Room on top for the three rows of triangles.
          heap: { range: (u, min, max) => [0, Math.max(1, max) / 0.66] },
        },
        axes: [
          timeAxis("#ece4f0"),
          mbAxis("heap", "modelled MB", MODELLED.heap, "#ece4f0"),
        ],
        series: [
          {},
          {
            label: "modelled managed heap",
            scale: "heap",
            stroke: MODELLED.heap,
            width: 2.5,
            dash: [9, 6],
            points: { show: false },
          },
        ],
        hooks: { draw: [drawModelledMarkers] },
      },
      [[], []],
      modelledEl,
    );
  }

  window.addEventListener("resize", () => modelledChart?.setSize(modelledSize()));

  /** The panel: on with its chart, totals and legend, or a note that the lens is off. */
  function renderModelled(d) {
    const lens = d.modelled_gc;
    const panel = $("modelled");
    panel.dataset.lens = lens ? "on" : "off";
    $("modelled-on").hidden = !lens;
    $("modelled-off").hidden = Boolean(lens);
    if (!lens) {
      $("modelled-label").textContent = "modelled .NET GC: off";
      return;
    }
    $("modelled-label").textContent = lens.label;
    $("modelled-describe").textContent = lens.describe;
    const c = lens.collections;
    $("modelled-gen0").textContent = integer.format(c.gen0);
    $("modelled-gen1").textContent = integer.format(c.gen1);
    $("modelled-gen2").textContent = integer.format(c.gen2);
    $("modelled-heap").textContent = mb(lens.managed_heap_bytes);
    $("modelled-requests").textContent = integer.format(lens.requests_fed);
    panel.dataset.gen2 = String(c.gen2);

    if (!modelledChart) modelledChart = makeModelledChart();
    modelledChart.setData([modelled.time, modelled.heapMb]);

    // In the window, each collection counted once, at its highest generation.
    const windowCount = (column) => `${integer.format(sum(column))}× in this window`;
    const entries = [
      ["tri-outline", MODELLED.gen0, "modelled gen0", windowCount(modelled.gen0Only)],
      ["tri-outline", MODELLED.gen1, "modelled gen1", windowCount(modelled.gen1Only)],
      ["tri-outline", MODELLED.gen2, "modelled gen2", windowCount(modelled.gen2)],
      ["dash", MODELLED.heap, "modelled managed heap", `${mb(lens.managed_heap_bytes)} MB`],
    ];
    const legend = $("modelled-legend");
    legend.replaceChildren(...entries.map(legendItem));
    legend.dataset.gen2 = String(sum(modelled.gen2));
  }

  // ---------------------------------------------------------------- legend

  /** One legend entry: swatch, label, value. */
  function legendItem([kind, color, label, value]) {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = `swatch swatch-${kind}`;
    if (color) swatch.style.setProperty("--swatch", color);
    const name = document.createElement("span");
    name.className = "legend-label";
    name.textContent = label;
    const val = document.createElement("span");
    val.className = "legend-value";
    val.textContent = value;
    li.append(swatch, name, val);
    return li;
  }

  /** The legend under the chart, like the PNG charts: each series with its value (at the
   *  cursor when hovering, otherwise now), reclaim events in the window, CPU and RPS
   *  averages over the window. */
  function renderLegend(cursorIndex) {
    const n = series.time.length;
    const i = cursorIndex == null ? n - 1 : cursorIndex;
    const at = (column) => (i >= 0 && column[i] != null ? column[i] : null);
    const mbText = (v) => (v == null ? "n/a" : `${oneDecimal.format(v)} MB`);
    const purges = sum(series.purges);
    const collects = sum(series.collects);
    const cpuAvg = average(series.cpuPercent);
    const rpsAvg = average(series.rps);
    const minutes = n > 1 ? duration(series.time[n - 1] - series.time[0]) : "–";
    const entries = [
      ["line", COLORS.allocated, "Allocated (live heap)", mbText(at(series.allocatedMb))],
      ["line", COLORS.resident, "Resident (RSS)", mbText(at(series.residentMb))],
    ];
    if (series.allocatorResidentMb.some((v) => v != null)) {
      entries.push([
        "dash",
        COLORS.allocatorResident,
        "Allocator resident",
        mbText(at(series.allocatorResidentMb)),
      ]);
    }
    entries.push(
      [
        "tri",
        COLORS.purge,
        "Allocator returned memory to the OS",
        purgesCounted
          ? `${integer.format(purges)}× in this window`
          : "not counted by this allocator",
      ],
      [
        "tri-outline",
        COLORS.collect,
        "Collect (POST /api/collect)",
        `${integer.format(collects)}× in this window`,
      ],
      ["text", null, "CPU avg in this window", cpuAvg == null ? "–" : `${rate(cpuAvg)} %`],
      ["text", null, "RPS avg in this window", rpsAvg == null ? "–" : rate(rpsAvg)],
      ["text", null, "this window", minutes],
    );
    const legend = $("legend");
    legend.replaceChildren(...entries.map(legendItem));
    legend.dataset.purges = String(purges);
    legend.dataset.collects = String(collects);
  }

  // ---------------------------------------------------------------- panels

  function renderTiles(d) {
    const n = series.time.length;
    const last = (column) => (n ? column[n - 1] : null);
    $("allocator").textContent = d.allocator + (d.counting_enabled ? "" : " (counting off)");
    $("pid").textContent = String(d.pid);
    $("uptime").textContent = duration(d.uptime_s);

    const allocated = $("stat-allocated");
    allocated.textContent = d.counting_enabled ? mb(d.heap.live_bytes) : "off";
    allocated.dataset.bytes = String(d.heap.live_bytes);
    const resident = $("stat-resident");
    resident.textContent = mb(d.process.rss_bytes);
    resident.dataset.bytes = String(d.process.rss_bytes);

    const show = (id, value, format) =>
      ($(id).textContent = value == null || !Number.isFinite(value) ? "–" : format(value));
    show("stat-rps", last(series.rps), rate);
    show("stat-cpu", last(series.cpuPercent), rate);
    show("stat-allocs", last(series.allocsPerSecond), rate);
    const bytesPerSecond = last(series.allocBytesPerSecond);
    $("stat-alloc-bytes").textContent =
      bytesPerSecond == null ? "–" : `${mb(bytesPerSecond)} MB / s allocated`;

    const stats = d.allocator_stats;
    const reclaims = (stats.purge_events_total ?? 0) + stats.collect_calls_total;
    $("stat-reclaim").textContent = integer.format(reclaims);
    const count = (n, noun) => `${integer.format(n)} ${noun}${n === 1 ? "" : "s"}`;
    const collects = count(stats.collect_calls_total, "collect");
    $("stat-reclaim-note").textContent =
      stats.purge_events_total == null
        ? `${collects}; purges not counted`
        : `${count(stats.purge_events_total, "purge")} + ${collects}`;
  }

  function renderHeld(d) {
    const rows = HOLDERS.map(([key, label, path, kind]) => {
      const held = d.leaks[key] ?? { items: 0, bytes: 0 };
      const row = document.createElement("tr");
      if (kind === "bounded") row.className = "bounded";
      const name = cell(row, "");
      name.append(label, " ");
      const code = document.createElement("code");
      code.textContent = path;
      name.append(code);
      cell(row, integer.format(held.items), "num");
      cell(row, mb(held.bytes), "num");
      row.dataset.holder = key;
      return row;
    });
    $("held").replaceChildren(...rows);
  }

  function renderErrors(d) {
    const kinds = Object.entries(d.errors).filter(([, count]) => count > 0);
    if (!kinds.length) {
      const row = document.createElement("tr");
      cell(row, "none", "dim");
      $("errors").replaceChildren(row);
      return;
    }
    $("errors").replaceChildren(
      ...kinds.map(([kind, count]) => {
        const row = document.createElement("tr");
        cell(row, kind);
        cell(row, integer.format(count), "num error-count");
        return row;
      }),
    );
  }

  function renderProcess(d) {
    const p = d.process;
    const rows = [
      ["threads", integer.format(p.threads)],
      ["open fds", integer.format(p.open_fds)],
      ["TCP established", integer.format(p.tcp.established)],
      ["TCP TIME_WAIT", integer.format(p.tcp.time_wait)],
      ["requests since start", integer.format(d.requests_total)],
    ];
    $("process").replaceChildren(
      ...rows.map(([label, value]) => {
        const row = document.createElement("tr");
        cell(row, label);
        cell(row, value, "num");
        return row;
      }),
    );
  }

  /** Request counts per route template, shown next to each endpoint. */
  function renderRequestCounts(d) {
    for (const item of document.querySelectorAll("#endpoints li[data-route]")) {
      const count = d.requests[item.dataset.route] ?? 0;
      item.querySelector(".endpoint-count").textContent =
        count > 0 ? `${integer.format(count)} req` : "";
    }
  }

  // ---------------------------------------------------------------- polling

  function setStatus(kind, text) {
    const status = $("status");
    status.className = `status status-${kind}`;
    status.textContent = text;
  }

  function drawChart() {
    chart.setData([series.time, series.allocatedMb, series.residentMb, series.allocatorResidentMb]);
  }

  /** Fills the window from GET /api/history (the server's last five minutes, one sample a
   *  second), so a page opened late or reloaded shows the whole window at once. A sample's
   *  time on the page is now minus how long before the server's answer it was taken
   *  (server uptime, like the modelled ticks). Without an answer the page just starts
   *  from its first poll. */
  async function backfill() {
    try {
      const response = await fetch("/api/history", { cache: "no-store" });
      if (!response.ok) throw new Error(`/api/history answered ${response.status}`);
      const history = await response.json();
      const nowS = Date.now() / 1000;
      for (const sample of history.samples) {
        ingest(sample, nowS - (history.uptime_s - sample.uptime_s));
      }
      drawChart();
      renderLegend(null);
      document.body.dataset.backfilled = String(history.samples.length);
      document.body.dataset.samples = String(series.time.length);
    } catch (error) {
      document.body.dataset.backfilled = "0";
      setStatus("down", `no history: ${error.message}`);
    }
  }

  async function poll() {
    try {
      const response = await fetch("/api/diagnostics", { cache: "no-store" });
      if (!response.ok) throw new Error(`/api/diagnostics answered ${response.status}`);
      const d = await response.json();
      ingest(d);
      drawChart();
      renderTiles(d);
      renderLegend(chart.cursor.idx);
      renderModelled(d);
      renderHeld(d);
      renderErrors(d);
      renderProcess(d);
      renderRequestCounts(d);
      setStatus("live", "live · every 1 s");
      document.body.dataset.samples = String(series.time.length);
    } catch (error) {
      setStatus("down", `no answer: ${error.message}`);
    } finally {
      setTimeout(poll, POLL_INTERVAL_MS);
    }
  }

  // ---------------------------------------------------------------- actions

  function showResult(title, lines, isError) {
    const box = $("action-result");
    const heading = document.createElement("p");
    heading.className = isError ? "result-title result-error" : "result-title";
    heading.textContent = title;
    const list = document.createElement("ul");
    list.className = "result-lines";
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = line;
      list.append(li);
    }
    box.replaceChildren(heading, list);
  }

  /** Lines for the answer of POST /api/collect (`CollectOutcome` in the server). */
  function describeCollect(outcome) {
    const released = outcome.rss_released_bytes;
    return [
      `RSS ${mb(outcome.rss_before_bytes)} MB → ${mb(outcome.rss_after_bytes)} MB`,
      released >= 0 ? `released ${mb(released)} MB` : `RSS grew by ${mb(-released)} MB meanwhile`,
      `called ${outcome.action}`,
      `took ${rate(outcome.duration_us / 1000)} ms`,
    ];
  }

  /** Lines for the answer of POST /api/reset (`ResetOutcome` in the server). */
  function describeReset(outcome) {
    const lines = [`dropped ${mb(outcome.dropped_leak_bytes)} MB the leaks held`];
    for (const [key, label] of HOLDERS) {
      const held = outcome.dropped[key];
      if (held && held.items > 0) {
        lines.push(`${label}: ${integer.format(held.items)} items, ${mb(held.bytes)} MB`);
      }
    }
    if (lines.length === 1) lines.push("nothing was held");
    return lines;
  }

  async function post(path, title, button, describe) {
    button.disabled = true;
    try {
      const response = await fetch(path, { method: "POST" });
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = { error: text };
      }
      if (!response.ok) {
        showResult(`${title} failed (${response.status})`, [body.error ?? text], true);
      } else {
        showResult(`${title} · ${new Date().toLocaleTimeString("en-GB")}`, describe(body), false);
      }
    } catch (error) {
      showResult(`${title} failed`, [error.message], true);
    } finally {
      button.disabled = false;
    }
  }

  $("collect").addEventListener("click", (event) =>
    post("/api/collect", "Collect", event.currentTarget, describeCollect),
  );
  $("reset").addEventListener("click", (event) =>
    post("/api/reset", "Reset", event.currentTarget, describeReset),
  );

  // ---------------------------------------------------------------- endpoints

  async function loadEndpoints() {
    const list = $("endpoints");
    try {
      const response = await fetch("/api/endpoints");
      if (!response.ok) throw new Error(`/api/endpoints answered ${response.status}`);
      const endpoints = await response.json();
      list.replaceChildren(
        ...endpoints.map((endpoint) => {
          const li = document.createElement("li");
          li.dataset.route = endpoint.route;
          const link = document.createElement("a");
          link.href = endpoint.example;
          link.target = "_blank";
          link.rel = "noopener";
          link.textContent = endpoint.example;
          const count = document.createElement("span");
          count.className = "endpoint-count";
          const description = document.createElement("span");
          description.className = "endpoint-description";
          withCode(description, endpoint.description);
          if (endpoint.origin) description.title = endpoint.origin;
          li.append(link, count, description);
          return li;
        }),
      );
    } catch (error) {
      const li = document.createElement("li");
      li.textContent = `cannot list endpoints: ${error.message}`;
      list.replaceChildren(li);
    }
  }

  renderLegend(null);
  loadEndpoints();
  backfill().finally(poll);
})();
