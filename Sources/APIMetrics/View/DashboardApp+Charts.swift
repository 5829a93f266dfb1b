extension DashboardApp {
    /// The charts: inline SVG built node by node (geometry in attributes,
    /// colours from the style sheet's classes, hover text in `<title>`).
    static let scriptCharts = #"""
        const SVG = 'http://www.w3.org/2000/svg';
        const CHART = { width: 720, height: 190, left: 46, right: 8, top: 10, bottom: 22 };
        // The drawing's width follows the screen's, so that its text stays
        // legible on a phone instead of being scaled down with the chart.
        function fitCharts() {
          const width = document.getElementById('main').clientWidth;
          CHART.width = width < 760 ? Math.max(280, Math.round(width - 50)) : 720;
        }
        function svg(tag, attributes, ...children) {
          const node = document.createElementNS(SVG, tag);
          for (const [name, value] of Object.entries(attributes || {})) {
            if (value === null || value === undefined || /^on/i.test(name) || name === 'style') { continue; }
            node.setAttribute(name, String(value));
          }
          for (const child of children) {
            if (child === null || child === undefined) { continue; }
            node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        function fixed(value) { return Math.round(value * 10) / 10; }
        function niceMax(value) {
          if (!(value > 0)) { return 1; }
          const power = Math.pow(10, Math.floor(Math.log10(value)));
          for (const step of [1, 2, 2.5, 5, 10]) { if (value <= step * power) { return step * power; } }
          return 10 * power;
        }
        function axisLabel(t, span) {
          const d = new Date(t);
          const clock = pad(d.getHours()) + ':' + pad(d.getMinutes());
          return span > 2 * 86400000 ? pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + clock : clock;
        }
        function frame(label, peak, unit) {
          const c = CHART;
          const root = svg('svg', { class: 'chart', viewBox: '0 0 ' + c.width + ' ' + c.height, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMidYMid meet' });
          const baseY = c.height - c.bottom;
          for (const f of [0, 0.5, 1]) {
            const y = fixed(baseY - f * (baseY - c.top));
            root.appendChild(svg('line', { class: f === 0 ? 'axis' : 'grid', x1: c.left, x2: c.width - c.right, y1: y, y2: y }));
            const value = peak * f;
            root.appendChild(svg('text', { x: c.left - 4, y: fixed(y + 4), 'text-anchor': 'end' }, (Number.isInteger(value) ? String(value) : value.toFixed(1)) + (f === 1 && unit ? ' ' + unit : '')));
          }
          return root;
        }
        function timeAxis(root, points) {
          const c = CHART;
          if (points.length === 0) { return; }
          const first = parseTime(points[0].t), last = parseTime(points[points.length - 1].t);
          if (first === null || last === null) { return; }
          const span = last - first;
          const marks = points.length > 2 ? [0, Math.floor((points.length - 1) / 2), points.length - 1] : [0, points.length - 1];
          for (const [n, index] of marks.entries()) {
            const t = parseTime(points[index].t);
            if (t === null) { continue; }
            const x = c.left + (index + 0.5) * (c.width - c.left - c.right) / points.length;
            const anchor = n === 0 ? 'start' : (n === marks.length - 1 ? 'end' : 'middle');
            root.appendChild(svg('text', { x: fixed(n === 0 ? c.left : (anchor === 'end' ? c.width - c.right : x)), y: c.height - 6, 'text-anchor': anchor }, axisLabel(t, span)));
          }
        }
        function legend(items) { return el('div', { class: 'legend' }, items.map(([swatch, text]) => el('span', {}, el('i', { class: swatch }), text))); }
        function noData(text) { return el('p', { class: 'empty' }, text || 'No calls in this range.'); }

        // Requests per bucket, stacked: successful, 4xx, 5xx.
        function trafficChart(points, label) {
          const series = arr(points).filter((p) => p && typeof p === 'object');
          if (series.length === 0) { return noData(); }
          const c = CHART;
          const peak = niceMax(Math.max(0, ...series.map((p) => num(p.requests) || 0)));
          const root = frame(label || 'requests and errors over time', peak, '');
          const slot = (c.width - c.left - c.right) / series.length;
          const scale = (c.height - c.bottom - c.top) / peak;
          series.forEach((p, index) => {
            const requests = Math.max(0, num(p.requests) || 0), c4 = Math.max(0, num(p.client_errors) || 0), c5 = Math.max(0, num(p.server_errors) || 0);
            const group = svg('g', {}, svg('title', {}, localTime(p.t) + ': ' + requests + ' requests, ' + c4 + ' 4xx, ' + c5 + ' 5xx'));
            let y = c.height - c.bottom;
            for (const [part, cls] of [[Math.max(0, requests - c4 - c5), 'f-ok'], [c4, 'f-c4'], [c5, 'f-c5']]) {
              if (part <= 0) { continue; }
              const h = part * scale;
              y -= h;
              group.appendChild(svg('rect', { class: cls, x: fixed(c.left + index * slot + slot * 0.1), y: fixed(y), width: fixed(Math.max(0.5, slot * 0.8)), height: fixed(Math.max(0.5, h)) }));
            }
            root.appendChild(group);
          });
          timeAxis(root, series);
          return el('div', {}, root, legend([['sw-ok', 'successful'], ['sw-c4', 'client errors (4xx)'], ['sw-c5', 'server errors (5xx)']]));
        }

        // p50, p95, p99 per bucket as lines; a bucket without calls breaks the line.
        function latencyChart(points, label) {
          const series = arr(points).filter((p) => p && typeof p === 'object');
          const keys = [['p50_ms', 'p50'], ['p95_ms', 'p95'], ['p99_ms', 'p99']];
          const values = series.flatMap((p) => keys.map(([k]) => num(p[k])).filter((v) => v !== null));
          if (values.length === 0) { return noData('No latency in this range.'); }
          const c = CHART;
          const peak = niceMax(Math.max(...values));
          const root = frame(label || 'latency over time', peak, 'ms');
          const slot = (c.width - c.left - c.right) / series.length;
          const scale = (c.height - c.bottom - c.top) / peak;
          for (const [key, name] of keys) {
            let d = '', open = false;
            series.forEach((p, index) => {
              const v = num(p[key]);
              if (v === null) { open = false; return; }
              const x = fixed(c.left + (index + 0.5) * slot), y = fixed(c.height - c.bottom - v * scale);
              d += (open ? 'L' : 'M') + x + ' ' + y + ' ';
              open = true;
              const dot = svg('circle', { class: 'd-' + name, cx: x, cy: y, r: series.length > 100 ? 1 : 2 });
              dot.appendChild(svg('title', {}, localTime(p.t) + ': ' + name + ' ' + ms(v) + ' ms'));
              root.appendChild(dot);
            });
            if (d) { root.appendChild(svg('path', { class: 'l-' + name, d: d.trim() })); }
          }
          timeAxis(root, series);
          return el('div', {}, root, legend([['sw-p50', 'p50'], ['sw-p95', 'p95'], ['sw-p99', 'p99']]));
        }

        // Bars of the latency distribution, one per log-spaced bucket.
        function histogramChart(buckets) {
          const bars = arr(buckets).filter((b) => b && num(b.count) !== null);
          if (bars.length === 0) { return noData('No latency in this range.'); }
          const c = CHART;
          const peak = niceMax(Math.max(...bars.map((b) => num(b.count))));
          const root = frame('latency distribution', peak, '');
          const slot = (c.width - c.left - c.right) / bars.length;
          const scale = (c.height - c.bottom - c.top) / peak;
          bars.forEach((b, index) => {
            const h = Math.max(0, num(b.count)) * scale;
            const rect = svg('rect', { class: 'f-bar', x: fixed(c.left + index * slot + slot * 0.08), y: fixed(c.height - c.bottom - h), width: fixed(Math.max(0.5, slot * 0.84)), height: fixed(Math.max(num(b.count) > 0 ? 1 : 0, h)) });
            rect.appendChild(svg('title', {}, ms(b.from_ms) + '–' + ms(b.to_ms) + ' ms: ' + count(b.count) + ' calls'));
            root.appendChild(rect);
          });
          const first = bars[0], last = bars[bars.length - 1];
          root.appendChild(svg('text', { x: c.left, y: c.height - 6, 'text-anchor': 'start' }, ms(first.from_ms) + ' ms'));
          root.appendChild(svg('text', { x: c.width - c.right, y: c.height - 6, 'text-anchor': 'end' }, ms(last.to_ms) + ' ms'));
          return el('div', {}, root, el('p', { class: 'legend' }, 'Calls per latency bucket (log-spaced).'));
        }

        // The range as one bar: covered time, gaps (no heartbeat) as their own
        // segments, time before the first run in grey.
        function uptimeBar(uptime, from, to) {
          const start = parseTime(from), end = parseTime(to);
          if (start === null || end === null || end <= start) { return noData('No range.'); }
          const width = 1000;
          const root = svg('svg', { class: 'chart bar', viewBox: '0 0 ' + width + ' 18', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'uptime over the range, gaps in red' });
          const x = (t) => fixed((Math.min(end, Math.max(start, t)) - start) / (end - start) * width);
          const runs = arr(uptime.runs).map((r) => parseTime(obj(r).started_at)).filter((t) => t !== null);
          const firstStart = runs.length ? Math.min(...runs) : end;
          root.appendChild(svg('rect', { class: 'f-none', x: 0, y: 0, width: width, height: 18 }, svg('title', {}, 'before the first run')));
          if (firstStart < end) { root.appendChild(svg('rect', { class: 'f-up', x: x(firstStart), y: 0, width: fixed(x(end) - x(firstStart)), height: 18 }, svg('title', {}, 'up'))); }
          for (const gap of arr(uptime.gaps)) {
            const a = parseTime(obj(gap).from), b = parseTime(obj(gap).to);
            if (a === null || b === null || b <= a) { continue; }
            root.appendChild(svg('rect', { class: 'f-gap', 'data-gap': '', x: x(a), y: 0, width: fixed(Math.max(2, x(b) - x(a))), height: 18 },
              svg('title', {}, 'down: ' + localTime(gap.from) + ' → ' + localTime(gap.to))));
          }
          return el('div', {}, root, el('div', { class: 'ends' }, el('span', {}, localTime(from)), el('span', {}, localTime(to))),
            legend([['sw-up', 'up'], ['sw-gap', 'down (no heartbeat)'], ['sw-none', 'before the first run']]));
        }

        // How full the store is.
        function meter(used, limit) {
          const u = num(used), l = num(limit);
          if (u === null || !l) { return null; }
          const width = 1000, share = Math.min(1, Math.max(0, u / l));
          const root = svg('svg', { class: 'chart bar', viewBox: '0 0 ' + width + ' 18', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'store size against its limit' });
          root.appendChild(svg('rect', { class: 'f-none', x: 0, y: 0, width: width, height: 18 }));
          root.appendChild(svg('rect', { class: share > 0.9 ? 'f-over' : 'f-meter', x: 0, y: 0, width: fixed(share * width), height: 18 }, svg('title', {}, percent(u, l) + ' % of the limit')));
          return el('div', {}, root, el('p', { class: 'legend' }, percent(u, l) + ' % of the limit used'));
        }

        """#
}
