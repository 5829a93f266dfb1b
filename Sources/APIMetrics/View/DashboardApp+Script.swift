extension DashboardApp {
    /// The script's core: reading the API, the URL's state (page, range,
    /// filters in the hash), building DOM nodes safely, tables, the router.
    static let scriptCore = #"""
        'use strict';
        const BASE = location.pathname.replace(/\/+$/, '');
        // A token given as ?token=T stays in the address bar (the page itself
        // needs it on reload) and goes to the API only as a header; the links
        // the page builds are fragments, and "Copy link" leaves the query out.
        const TOKEN = new URLSearchParams(location.search).get('token') || null;
        const RANGES = ['1h', '24h', '7d', '30d'];
        const PAGES = ['overview', 'endpoints', 'endpoint', 'consumers', 'consumer', 'calls', 'call', 'errors', 'api', 'alerts', 'pipeline'];
        let generation = 0;
        // What gets the focus after the next render: the sort button just used,
        // so that a keyboard user stays on the header they pressed.
        let pendingFocus = null;

        class APIError extends Error {
          constructor(message, status, field) { super(message); this.status = status; this.field = field; }
        }

        async function api(path, params) {
          const query = new URLSearchParams();
          for (const [name, value] of Object.entries(params || {})) {
            if (value !== null && value !== undefined && value !== '') { query.set(name, String(value)); }
          }
          const text = query.toString();
          return fetchObject(BASE + '/api/v1/' + path + (text ? '?' + text : ''));
        }

        // One JSON object from the view (the API, the OpenAPI document).
        async function fetchObject(url) {
          const headers = { 'Accept': 'application/json' };
          if (TOKEN) { headers['Authorization'] = 'Bearer ' + TOKEN; }
          let response;
          try {
            response = await fetch(url, { credentials: 'same-origin', headers: headers, cache: 'no-store', redirect: 'error' });
          } catch (error) {
            throw new APIError('the API could not be reached (' + String(error && error.message) + ')', 0);
          }
          let body = null;
          try { body = await response.json(); } catch (error) { body = null; }
          if (!response.ok) {
            const reason = body && typeof body.error === 'string' ? body.error : 'HTTP ' + response.status;
            throw new APIError(reason, response.status, body && typeof body.field === 'string' ? body.field : null);
          }
          if (!body || typeof body !== 'object' || Array.isArray(body)) { throw new APIError('the API answered something that is not a JSON object', response.status); }
          return body;
        }

        // Values from the API, checked before use: a wrong type reads as absent.
        function arr(value) { return Array.isArray(value) ? value : []; }
        function obj(value) { return value && typeof value === 'object' && !Array.isArray(value) ? value : {}; }
        function num(value) { return typeof value === 'number' && isFinite(value) ? value : null; }
        function str(value) { return typeof value === 'string' ? value : (typeof value === 'number' || typeof value === 'boolean' ? String(value) : ''); }

        // DOM building: attributes by setAttribute, text by text nodes.
        function el(tag, attributes, ...children) {
          const node = document.createElement(tag);
          setAttributes(node, attributes);
          append(node, children);
          return node;
        }
        function setAttributes(node, attributes) {
          for (const [name, value] of Object.entries(attributes || {})) {
            if (value === null || value === undefined || value === false) { continue; }
            if (/^on/i.test(name) || name === 'style') { continue; }
            node.setAttribute(name, value === true ? '' : String(value));
          }
        }
        function append(node, children) {
          for (const child of children) {
            if (child === null || child === undefined || child === false) { continue; }
            if (Array.isArray(child)) { append(node, child); } else if (child instanceof Node) { node.appendChild(child); } else { node.appendChild(document.createTextNode(String(child))); }
          }
        }
        function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

        // Formats. Counts are plain integers (the element's text is the
        // figure); a grouped form goes in the title.
        function count(value) { const n = num(value); return n === null ? '–' : String(Math.round(n)); }
        function grouped(value) { const n = num(value); return n === null ? '' : n.toLocaleString(); }
        function ms(value) { const n = num(value); return n === null ? '–' : String(Math.round(n * 1000) / 1000); }
        function percent(part, whole) { const p = num(part), w = num(whole); return !w || p === null ? '0.00' : (100 * p / w).toFixed(2); }
        function bytes(value) {
          const n = num(value);
          if (n === null) { return '–'; }
          const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
          let v = n, unit = 0;
          while (Math.abs(v) >= 1024 && unit < units.length - 1) { v /= 1024; unit += 1; }
          return (unit === 0 ? String(Math.round(v)) : v.toFixed(1)) + ' ' + units[unit];
        }
        function pad(n) { return String(n).padStart(2, '0'); }
        function parseTime(value) { const t = Date.parse(str(value)); return isFinite(t) ? t : null; }
        // A from/to parameter: RFC 3339 or milliseconds since the epoch.
        function paramTime(value) { const text = str(value); return /^[0-9]{1,16}$/.test(text) ? Number(text) : parseTime(text); }
        function localTime(value) {
          const t = parseTime(value);
          if (t === null) { return str(value) || '–'; }
          const d = new Date(t);
          return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
        }
        function timeNode(value) { return el('time', { datetime: str(value) || null, title: str(value) || null }, localTime(value)); }
        function inputTime(ms) { const d = new Date(ms); return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()); }
        function statusClass(status) { const n = num(status); return 'status-' + (n === null ? 0 : Math.floor(n / 100)); }

        // The URL's state: '#/page?name=value&…'.
        function route() {
          const hash = location.hash.replace(/^#\/?/, '');
          const at = hash.indexOf('?');
          const page = at < 0 ? hash : hash.slice(0, at);
          return { page: PAGES.includes(page) ? page : 'overview', params: new URLSearchParams(at < 0 ? '' : hash.slice(at + 1)) };
        }
        function rangeParams(params) {
          const from = params.get('from'), to = params.get('to');
          if (from || to) { return { from: from, to: to }; }
          const range = params.get('range');
          return { range: RANGES.includes(range) ? range : '24h' };
        }
        // A link to a page, carrying the current range unless told otherwise.
        function href(page, values, keepRange) {
          const query = new URLSearchParams();
          if (keepRange !== false) {
            for (const [name, value] of Object.entries(rangeParams(route().params))) { if (value) { query.set(name, value); } }
          }
          for (const [name, value] of Object.entries(values || {})) {
            if (value !== null && value !== undefined && value !== '') { query.set(name, String(value)); }
          }
          const text = query.toString();
          return '#/' + page + (text ? '?' + text : '');
        }
        function go(page, values, keepRange) { location.hash = href(page, values, keepRange); }
        function endpointLink(method, path) {
          if (!str(method) && !str(path)) { return el('span', { class: 'muted' }, '(no route)'); }
          if (path === null || path === undefined) { return el('span', {}, str(method) + ' ', el('span', { class: 'muted' }, '(no route)')); }
          return el('a', { href: href('endpoint', { method: str(method), route: str(path) }) }, str(method) + ' ' + str(path));
        }
        function consumerLink(id, name) {
          const text = str(id);
          if (!text) { return el('span', { class: 'muted' }, '–'); }
          return el('a', { href: href('consumer', { id: text }), title: str(name) && str(name) !== text ? str(name) : null }, text);
        }
        function callLink(id, text) {
          const value = str(id);
          return /^[0-9a-f]{32}$/i.test(value) ? el('a', { href: href('call', { id: value }, false) }, text) : el('span', {}, text);
        }

        // Tables. A column: { key (the API field, the cell's data-col), label,
        // num (right-aligned, sorted as a number), cell(row) → text or node,
        // sort (its name in the URL's sort=), wrap }.
        function table(name, columns, rows, options) {
          const opts = options || {};
          const sorted = rows.slice();
          let sortKey = null, descending = false;
          if (opts.sort) {
            const wanted = opts.sort.params.get('sort');
            const column = columns.find((c) => (c.sort || c.key) === wanted) || null;
            if (column) {
              sortKey = column;
              descending = (opts.sort.params.get('dir') || (column.num ? 'desc' : 'asc')) === 'desc';
              const value = column.value || ((row) => row[column.key]);
              sorted.sort((a, b) => {
                const x = value(a), y = value(b);
                let order;
                if (column.num) { const p = num(x), q = num(y); order = (p === null ? -Infinity : p) - (q === null ? -Infinity : q); } else { order = str(x).localeCompare(str(y)); }
                return descending ? -order : order;
              });
            }
          }
          const head = el('tr', {}, columns.map((column) => {
            const attributes = { 'data-col': column.key, class: column.num ? 'n' : null, scope: 'col' };
            if (!opts.sort) { return el('th', attributes, column.label); }
            const key = column.sort || column.key;
            attributes['aria-sort'] = sortKey === column ? (descending ? 'descending' : 'ascending') : 'none';
            const button = el('button', { type: 'button', class: 'sort', 'data-sort': key }, column.label);
            button.addEventListener('click', () => {
              const next = sortKey === column ? (descending ? 'asc' : 'desc') : (column.num ? 'desc' : 'asc');
              const values = {};
              for (const [n, v] of opts.sort.params) { values[n] = v; }
              values.sort = key; values.dir = next;
              pendingFocus = 'table[data-table="' + name + '"] th[data-col="' + column.key + '"] button';
              go(opts.sort.page, values, false);
            });
            return el('th', attributes, button);
          }));
          const body = el('tbody');
          for (const row of sorted) {
            const tr = el('tr', { 'data-row': opts.rowId ? opts.rowId(row) : '' }, columns.map((column) => {
              const content = column.cell ? column.cell(row) : (column.num ? count(row[column.key]) : str(row[column.key]));
              const title = column.title ? column.title(row) : (column.num && !column.cell ? grouped(row[column.key]) : null);
              return el('td', { 'data-col': column.key, class: column.wrap ? 'wrap' : (column.num ? 'n' : null), title: title || null }, content);
            }));
            if (opts.hot && opts.hot(row)) { tr.classList.add('hot'); }
            body.appendChild(tr);
          }
          if (sorted.length === 0) { body.appendChild(el('tr', {}, el('td', { colspan: columns.length, class: 'empty' }, opts.empty || 'None in this range.'))); }
          return el('div', { class: 'scroll' }, el('table', { 'data-table': name }, el('thead', {}, head), body));
        }
        function section(title, ...children) { return el('section', {}, el('h2', {}, title), children); }
        function tile(figure, label, text, sub, title) {
          return el('div', { class: 'tile' }, el('span', { class: 'label' }, label), el('b', { 'data-figure': figure, title: title || null }, text), sub ? el('span', { class: 'sub' }, sub) : null);
        }
        function countTiles(answer) {
          const requests = num(answer.requests);
          return [
            tile('requests', 'Requests', count(requests), null, grouped(requests)),
            tile('client_errors', 'Client errors (4xx)', count(answer.client_errors), percent(answer.client_errors, requests) + ' %'),
            tile('server_errors', 'Server errors (5xx)', count(answer.server_errors), percent(answer.server_errors, requests) + ' %'),
          ];
        }
        function latencyTiles(answer) {
          return [
            tile('p50_ms', 'p50 (ms)', ms(answer.p50_ms)),
            tile('p95_ms', 'p95 (ms)', ms(answer.p95_ms)),
            tile('p99_ms', 'p99 (ms)', ms(answer.p99_ms)),
          ];
        }
        function kv(pairs) {
          return el('dl', { class: 'kv' }, pairs.filter((p) => p).map(([name, value, field]) => [el('dt', {}, name), el('dd', { 'data-field': field || null }, value === '' || value === null || value === undefined ? '–' : value)]));
        }

        // The frame: banner, range bar, navigation.
        function showError(error) {
          const banner = document.getElementById('banner');
          clear(banner);
          banner.appendChild(document.createTextNode(str(error && error.message) || 'something went wrong'));
          if (error && error.field) { banner.appendChild(el('span', { class: 'muted' }, ' (parameter: ' + error.field + ')')); }
          banner.hidden = false;
        }
        function hideError() { const banner = document.getElementById('banner'); clear(banner); banner.hidden = true; }
        function syncFrame(state) {
          const navPage = { endpoint: 'endpoints', consumer: 'consumers', call: 'calls' }[state.page] || state.page;
          for (const link of document.querySelectorAll('nav a[data-page]')) {
            const page = link.getAttribute('data-page');
            link.setAttribute('href', href(page, {}));
            if (page === navPage) { link.setAttribute('aria-current', 'page'); } else { link.removeAttribute('aria-current'); }
          }
          const range = rangeParams(state.params);
          for (const button of document.querySelectorAll('button[data-range]')) {
            button.setAttribute('aria-pressed', String(range.range === button.getAttribute('data-range')));
          }
          const from = paramTime(state.params.get('from')), to = paramTime(state.params.get('to'));
          if (document.activeElement !== document.getElementById('range-from')) { document.getElementById('range-from').value = range.range || !from ? '' : inputTime(from); }
          if (document.activeElement !== document.getElementById('range-to')) { document.getElementById('range-to').value = range.range || !to ? '' : inputTime(to); }
          document.getElementById('range-label').textContent = '';
        }
        function showCovered(answer) {
          if (answer.from || answer.to) { document.getElementById('range-label').textContent = localTime(answer.from) + ' → ' + localTime(answer.to); }
        }
        function setRange(values) {
          const state = route();
          const next = {};
          for (const [name, value] of state.params) { if (!['range', 'from', 'to', 'cursor'].includes(name)) { next[name] = value; } }
          go(state.page, Object.assign(next, values), false);
        }
        function bindFrame() {
          for (const button of document.querySelectorAll('button[data-range]')) {
            button.addEventListener('click', () => setRange({ range: button.getAttribute('data-range') }));
          }
          document.getElementById('range-custom').addEventListener('submit', (event) => {
            event.preventDefault();
            const from = Date.parse(document.getElementById('range-from').value);
            const to = Date.parse(document.getElementById('range-to').value);
            if (!isFinite(from)) { showError(new APIError('pick the start of the range', 0, 'from')); return; }
            setRange({ from: new Date(from).toISOString(), to: isFinite(to) ? new Date(to).toISOString() : new Date().toISOString() });
          });
          document.getElementById('refresh').addEventListener('click', () => render(false));
          document.getElementById('share-link').addEventListener('click', async () => {
            const link = location.origin + location.pathname + location.hash;
            const state = document.getElementById('share-state');
            try { await navigator.clipboard.writeText(link); state.textContent = 'Link copied (without the token).'; } catch (error) { state.textContent = link; }
          });
          window.addEventListener('hashchange', () => render(true));
        }

        async function render(moveFocus) {
          const state = route();
          const mine = ++generation;
          syncFrame(state);
          refreshAlertLine();
          const main = document.getElementById('main');
          main.setAttribute('aria-busy', 'true');
          try {
            fitCharts();
            const nodes = await PAGE_RENDERERS[state.page](state.params, state);
            if (mine !== generation) { return; }
            hideError();
            clear(main);
            append(main, [nodes]);
            const target = pendingFocus ? main.querySelector(pendingFocus) : null;
            pendingFocus = null;
            if (target) { target.focus(); } else if (moveFocus && (document.activeElement === document.body || !document.activeElement || !document.activeElement.isConnected || main.contains(document.activeElement))) { main.focus({ preventScroll: true }); }
          } catch (error) {
            if (mine !== generation) { return; }
            showError(error);
            clear(main);
          } finally {
            if (mine === generation) { main.removeAttribute('aria-busy'); }
          }
        }

        """#
}
