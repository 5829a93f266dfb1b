extension DashboardApp {
    /// The request log (filters in the URL, paging by cursor), one call's
    /// page with "Copy as cURL", the page table and the start.
    static let scriptCalls = #"""
        const FILTERS = [
          ['method', 'Method', 'GET'], ['route', 'Route (template)', '/orders/{id}'], ['status', 'Status or class', '500 or 5xx'],
          ['consumer', 'Consumer id', 'acme'], ['min_ms', 'Min duration (ms)', '100'], ['path', 'Path contains', 'orders'],
        ];
        async function callsPage(params) {
          const filters = {};
          for (const [name] of FILTERS) { if (params.get(name)) { filters[name] = params.get(name); } }
          const form = el('form', { id: 'filters', role: 'search' },
            FILTERS.map(([name, label, hint]) => el('label', {}, label, name === 'method'
              ? methodSelect(params.get('method') || '')
              : el('input', { name: name, value: params.get(name) || '', placeholder: hint, type: name === 'min_ms' ? 'number' : 'text', min: name === 'min_ms' ? '0' : null, step: name === 'min_ms' ? 'any' : null, autocomplete: 'off' }))),
            el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Filter'), el('button', { type: 'button', id: 'clear-filters' }, 'Clear')));
          form.addEventListener('submit', (event) => {
            event.preventDefault();
            const values = {};
            for (const [name] of FILTERS) { const v = form.elements.namedItem(name).value.trim(); if (v) { values[name] = v; } }
            go('calls', values);
          });
          form.querySelector('#clear-filters').addEventListener('click', () => go('calls', {}));
          const answer = await api('calls', Object.assign({}, filters, rangeParams(params)));
          showCovered(answer);
          const holder = el('div', {}, callsTable('calls', answer.calls));
          const older = el('button', { type: 'button', id: 'older' }, 'Older');
          const status = el('span', { class: 'muted', id: 'calls-count' });
          let cursor = typeof answer.next_cursor === 'string' && answer.next_cursor ? answer.next_cursor : null;
          let shown = arr(answer.calls).length;
          const update = () => { older.hidden = !cursor; status.textContent = shown + (shown === 1 ? ' call' : ' calls') + (cursor ? ' shown; older ones exist.' : ' (all that match).'); };
          update();
          older.addEventListener('click', async () => {
            const mine = generation;
            older.disabled = true;
            try {
              const next = await api('calls', Object.assign({ cursor: cursor }, filters, rangeParams(params)));
              if (mine !== generation) { return; }
              const body = holder.querySelector('tbody');
              const extra = callsTable('calls', next.calls).querySelector('tbody');
              if (arr(next.calls).length) {
                if (shown === 0) { clear(body); }
                for (const row of Array.from(extra.children)) { body.appendChild(row); }
              }
              shown += arr(next.calls).length;
              cursor = typeof next.next_cursor === 'string' && next.next_cursor ? next.next_cursor : null;
              hideError();
            } catch (error) { showError(error); } finally { older.disabled = false; update(); }
          });
          return [el('h1', {}, 'Request log'), section('Filters', form), section('Calls', holder, el('div', { class: 'more' }, older, status))];
        }
        function methodSelect(current) {
          const methods = ['', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
          if (current && !methods.includes(current)) { methods.push(current); }
          const select = el('select', { name: 'method' }, methods.map((m) => el('option', { value: m }, m || 'any')));
          select.value = current;
          return select;
        }

        // Bodies: JSON indented, text as it is, base64 labelled with its size.
        function bodyView(body) {
          if (!body || typeof body !== 'object') { return el('p', { class: 'empty' }, 'No body captured.'); }
          const size = num(body.size);
          const facts = [count(size) + ' bytes', str(body.content_type) || 'no content type'];
          if (body.truncated === true) { facts.push('truncated at capture'); }
          if (str(body.decoded_from)) { facts.push('decoded from ' + str(body.decoded_from)); }
          const text = str(body.text);
          let shown = text, kind = 'text';
          if (body.encoding === 'base64') {
            kind = 'base64';
            facts.push('binary, shown as base64 (' + count(text.length) + ' characters)');
          } else if (/json/i.test(str(body.content_type)) || /^\s*[\[{]/.test(text)) {
            try { shown = JSON.stringify(JSON.parse(text), null, 2); kind = 'json'; } catch (e) { kind = 'text'; }
          }
          return el('div', {}, el('p', { class: 'muted' }, facts.join(' · ')), el('pre', { 'data-body': kind }, shown));
        }
        function headersTable(name, headers) {
          const rows = arr(headers).filter((h) => Array.isArray(h)).map((h) => ({ name: str(h[0]), value: str(h[1]) }));
          return table(name, [{ key: 'name', label: 'Name' }, { key: 'value', label: 'Value', wrap: true,
            cell: (r) => isRedacted(r.value) ? el('span', { class: 'muted' }, r.value) : r.value }], rows, { rowId: (r) => r.name.toLowerCase(), empty: 'No headers recorded.' });
        }
        function errorList(errors) {
          return el('ul', {}, arr(errors).map(obj).map((e) => el('li', {}, el('b', {}, str(e.type || e.field)), ' ', str(e.message),
            str(e.location) ? el('span', { class: 'muted' }, ' at ' + str(e.location)) : null,
            arr(e.causes).length ? errorList(e.causes) : null)));
        }

        // cURL: every word single-quoted; a redacted value becomes "$NAME" so
        // that the command runs once the user sets that variable.
        const REDACTED = /\[REDACTED\]|REDACTED/g;
        function isRedacted(value) { REDACTED.lastIndex = 0; return REDACTED.test(value); }
        function quote(text) { return "'" + text.replace(/'/g, "'\\''") + "'"; }
        function variableName(name) {
          let v = str(name).toUpperCase().replace(/[^A-Z0-9]/g, '_').replace(/^_+|_+$/g, '');
          if (!v) { v = 'REDACTED'; }
          return /^[0-9]/.test(v) ? '_' + v : v;
        }
        // A shell word for text whose redacted spots take variables named by nameAt(textBefore).
        function shellWord(text, nameAt, used) {
          let word = '', last = 0, match;
          REDACTED.lastIndex = 0;
          while ((match = REDACTED.exec(text)) !== null) {
            const name = variableName(nameAt(text.slice(0, match.index)));
            used.add(name);
            if (match.index > last || word === '') { word += quote(text.slice(last, match.index)); }
            word += '"$' + name + '"';
            last = match.index + match[0].length;
          }
          if (last < text.length || word === '') { word += quote(text.slice(last)); }
          return word;
        }
        function queryName(before) { const m = /[?&;]([^=&?;#]*)=$/.exec(before); return m ? m[1] : 'REDACTED'; }
        function bodyName(before) {
          const json = /"((?:[^"\\]|\\.){1,64})"\s*:\s*"?$/.exec(before);
          if (json) { return json[1]; }
          const form = /(?:^|&)([^=&]{1,64})=$/.exec(before);
          return form ? form[1] : 'BODY_REDACTED';
        }
        const SKIPPED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'expect'];
        function curlCommand(call) {
          const used = new Set(), notes = [];
          const method = str(call.method).toUpperCase() || 'GET';
          const url = str(call.url) || (location.origin + str(call.path));
          const request = obj(call.request);
          const body = request.body && typeof request.body === 'object' ? request.body : null;
          // --globoff: curl would expand [1-100000] or {a,b} in a recorded URL into as many requests.
          const parts = ['curl ' + (method === 'HEAD' ? '--head' : '-X ' + (/^[A-Z]+$/.test(method) ? method : quote(method))) + ' ' + shellWord(url, queryName, used) + ' --globoff'];
          for (const header of arr(request.headers)) {
            if (!Array.isArray(header)) { continue; }
            const name = str(header[0]), value = str(header[1]);
            const lower = name.toLowerCase();
            if (!name || name.startsWith(':') || SKIPPED_HEADERS.includes(lower)) { continue; }
            // -H @NAME reads headers from the file NAME: only a field name as HTTP allows it goes in.
            if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) { notes.push('# a header whose name is not a valid field name was left out'); continue; }
            if (lower === 'content-encoding' && body && str(body.decoded_from)) { continue; }
            const word = isRedacted(value) ? shellWord(name + ': ' + value, () => name, used) : quote(name + ': ' + value);
            parts.push('-H ' + word);
          }
          let prefix = '';
          if (body && str(body.text)) {
            if (body.encoding === 'base64') {
              prefix = 'printf %s ' + quote(str(body.text)) + ' | base64 -d | ';
              parts.push('--data-binary @-');
            } else {
              // --data-raw, not --data-binary: a body starting with @ is text to send, never a file to read.
              parts.push('--data-raw ' + shellWord(str(body.text), bodyName, used));
            }
            if (body.truncated === true) { notes.push('# the recorded body was truncated at capture: this sends only its first ' + count(str(body.text).length) + ' characters'); }
          } else if (body && num(body.size) > 0) {
            notes.push('# the request had a ' + count(body.size) + '-byte body that was not captured');
          }
          for (const name of used) { notes.push('# set ' + name + ' first: its value was redacted, e.g.  export ' + name + "='…'"); }
          return notes.concat([prefix + parts.join(' \\\n  ')]).join('\n');
        }

        async function callPage(params) {
          const id = params.get('id') || '';
          const call = await api('call', { id: id });
          const consumer = call.consumer && typeof call.consumer === 'object' ? obj(call.consumer) : null;
          const request = obj(call.request);
          const response = call.response && typeof call.response === 'object' ? obj(call.response) : null;
          const curl = curlCommand(call);
          const pre = el('pre', { id: 'curl' }, curl);
          const copy = el('button', { type: 'button', id: 'copy-curl' }, 'Copy as cURL');
          const copied = el('span', { class: 'muted', id: 'copy-state', 'aria-live': 'polite' });
          copy.addEventListener('click', async () => {
            try {
              await navigator.clipboard.writeText(curl);
              copied.textContent = 'Copied.';
            } catch (error) {
              copied.textContent = 'The browser refused the clipboard: select the command below and copy it.';
              const selection = window.getSelection();
              const span = document.createRange();
              span.selectNodeContents(pre);
              selection.removeAllRanges();
              selection.addRange(span);
            }
          });
          const validation = arr(call.validation_errors);
          return [
            el('h1', {}, 'Call ', el('code', { 'data-field': 'id' }, str(call.id || id))),
            el('div', { class: 'head' },
              el('b', { 'data-field': 'method' }, str(call.method)),
              el('span', { 'data-field': 'path' }, str(call.path)),
              el('b', { 'data-field': 'status', class: statusClass(call.status) }, count(call.status)),
              el('span', {}, el('span', { 'data-field': 'duration_ms' }, ms(call.duration_ms)), ' ms')),
            el('div', { class: 'grid2' },
              section('Call', kv([
                ['Time', timeNode(call.time)], ['Direction', str(call.direction), 'direction'],
                ['Route', call.route ? endpointLink(call.method, call.route) : el('span', { class: 'muted' }, 'no route matched'), 'route'],
                ['URL', str(call.url), 'url'], ['Consumer', consumer ? consumerLink(consumer.id, consumer.name) : '', 'consumer'],
                ['Client address', str(call.client_address), 'client_address'], ['HTTP version', str(request.http_version), 'http_version'],
                ['Trace id', str(call.trace_id), 'trace_id'], ['Span id', str(call.span_id), 'span_id'], ['Parent span id', str(call.parent_id), 'parent_id'],
                consumer && (consumer.email || consumer.company) ? ['Consumer profile', [str(consumer.name), str(consumer.email), str(consumer.company)].filter((s) => s).join(' · ')] : null,
              ])),
              section('Linked calls',
                el('h3', {}, 'Parent'),
                call.parent && typeof call.parent === 'object' ? callsTable('parent', [call.parent]) : el('p', { class: 'empty' }, 'None: this call was not made while serving another.'),
                el('h3', {}, 'Outgoing calls made while serving it'),
                callsTable('children', call.children))),
            section('Copy as cURL', el('div', { class: 'more' }, copy, copied), pre),
            arr(call.errors).length || validation.length ? section('Errors',
              arr(call.errors).length ? errorList(call.errors) : null,
              validation.length ? [el('h3', {}, 'Validation errors'), errorList(validation)] : null) : null,
            el('div', { class: 'grid2' },
              section('Request headers', headersTable('request-headers', request.headers)),
              section('Response headers', response ? headersTable('response-headers', response.headers) : el('p', { class: 'empty' }, 'No response was sent.'))),
            el('div', { class: 'grid2' },
              section('Request body', bodyView(request.body)),
              section('Response body', response ? bodyView(response.body) : el('p', { class: 'empty' }, 'No response was sent.'))),
          ];
        }

        const PAGE_RENDERERS = {
          overview: overviewPage, endpoints: endpointsPage, endpoint: endpointPage, consumers: consumersPage,
          consumer: consumerPage, calls: callsPage, call: callPage, errors: errorsPage, api: apiPage, alerts: alertsPage, pipeline: pipelinePage,
        };
        bindFrame();
        render(false);

        """#
}
