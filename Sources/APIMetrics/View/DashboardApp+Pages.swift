extension DashboardApp {
    /// The screens over aggregates: overview, endpoints and one endpoint,
    /// consumers and one consumer, error groups, pipeline health.
    static let scriptPages = #"""
        const CALL_COLUMNS = [
          { key: 'time', label: 'Time', cell: (r) => callLink(r.id, localTime(r.time)), title: (r) => str(r.time) },
          { key: 'method', label: 'Method' },
          { key: 'path', label: 'Path', wrap: true, cell: (r) => callLink(r.id, str(r.path)) },
          { key: 'status', label: 'Status', num: true, cell: (r) => el('span', { class: statusClass(r.status) }, count(r.status)) },
          { key: 'duration_ms', label: 'ms', num: true, cell: (r) => ms(r.duration_ms) },
          { key: 'consumer', label: 'Consumer', cell: (r) => consumerLink(r.consumer) },
          { key: 'route', label: 'Route', cell: (r) => r.route === null || r.route === undefined ? el('span', { class: 'muted' }, '–') : endpointLink(r.method, r.route) },
          { key: 'response_bytes', label: 'Response', num: true, cell: (r) => bytes(r.response_bytes), title: (r) => count(r.response_bytes) + ' bytes' },
          { key: 'direction', label: 'Direction' },
          { key: 'error', label: 'Error', wrap: true, cell: (r) => r.error ? el('span', { class: 'bad' }, str(r.error)) : '' },
        ];
        function callRowId(r) { return str(r.id); }
        function callsTable(name, rows) { return table(name, CALL_COLUMNS, arr(rows).map(obj), { rowId: callRowId, empty: 'No calls.' }); }
        const ERROR_COLUMNS = [
          { key: 'route', label: 'Endpoint', cell: (r) => endpointLink(r.method, r.route) },
          { key: 'type', label: 'Type', cell: (r) => el('b', {}, str(r.type)) },
          { key: 'message', label: 'Message', wrap: true },
          { key: 'location', label: 'Where', wrap: true },
          { key: 'count', label: 'Count', num: true },
          { key: 'first_seen', label: 'First seen', cell: (r) => timeNode(r.first_seen) },
          { key: 'last_seen', label: 'Last seen', cell: (r) => timeNode(r.last_seen) },
          { key: 'consumers_affected', label: 'Consumers affected', num: true },
        ];
        function errorsTable(rows) { return table('errors', ERROR_COLUMNS, arr(rows).map(obj), { rowId: (r) => str(r.type) + ' ' + str(r.method) + ' ' + str(r.route), empty: 'No server errors in this range.' }); }

        async function overviewPage(params) {
          const answer = await api('overview', rangeParams(params));
          showCovered(answer);
          const service = str(answer.service) + (str(answer.env) ? ' · ' + str(answer.env) : '');
          document.getElementById('service').textContent = service;
          document.title = (str(answer.service) || 'APIMetrics') + ' · APIMetrics';
          const uptime = obj(answer.uptime);
          const ratio = num(uptime.ratio);
          const gaps = arr(uptime.gaps).map(obj), runs = arr(uptime.runs).map(obj);
          return [
            el('h1', {}, 'Overview'),
            el('div', { class: 'tiles' }, countTiles(answer), latencyTiles(answer),
              tile('consumers', 'Consumers', count(answer.consumers)),
              tile('uptime', 'Uptime (%)', ratio === null ? '–' : (100 * ratio).toFixed(2), gaps.length + (gaps.length === 1 ? ' gap' : ' gaps'))),
            el('div', { class: 'grid2' },
              section('Requests and errors', trafficChart(answer.series)),
              section('Latency (ms)', latencyChart(answer.series))),
            section('Uptime', uptimeBar(uptime, answer.from, answer.to),
              el('h3', {}, 'Runs'),
              table('runs', [
                { key: 'instance', label: 'Instance' },
                { key: 'version', label: 'Version' },
                { key: 'started_at', label: 'Started', cell: (r) => timeNode(r.started_at) },
                { key: 'last_seen', label: 'Last seen', cell: (r) => timeNode(r.last_seen) },
              ], runs, { rowId: (r) => str(r.instance), empty: 'No run in this range.' }),
              gaps.length ? [el('h3', {}, 'Gaps (no heartbeat)'), table('gaps', [
                { key: 'from', label: 'From', cell: (r) => timeNode(r.from) },
                { key: 'to', label: 'To', cell: (r) => timeNode(r.to) },
                { key: 'minutes', label: 'Minutes', num: true, cell: (r) => { const a = parseTime(r.from), b = parseTime(r.to); return a === null || b === null ? '–' : ((b - a) / 60000).toFixed(1); } },
              ], gaps, { rowId: (r) => str(r.from) })] : null),
            el('p', { class: 'muted' }, 'Resolution: ' + count(answer.resolution_s) + ' s per point. ', el('a', { href: href('endpoints', {}) }, 'All endpoints'), ' · ', el('a', { href: href('errors', {}) }, 'Error groups')),
          ];
        }

        const ENDPOINT_COLUMNS = [
          { key: 'method', label: 'Method' },
          { key: 'route', label: 'Route', wrap: true, cell: (r) => el('a', { href: href('endpoint', { method: str(r.method), route: str(r.route) }) }, str(r.route)) },
          { key: 'requests', label: 'Requests', num: true },
          { key: 'client_errors', label: '4xx', num: true },
          { key: 'server_errors', label: '5xx', num: true },
          { key: 'p50_ms', label: 'p50 ms', num: true, sort: 'p50', cell: (r) => ms(r.p50_ms) },
          { key: 'p95_ms', label: 'p95 ms', num: true, sort: 'p95', cell: (r) => ms(r.p95_ms) },
          { key: 'p99_ms', label: 'p99 ms', num: true, sort: 'p99', cell: (r) => ms(r.p99_ms) },
          { key: 'mean_ms', label: 'Mean ms', num: true, sort: 'mean', cell: (r) => ms(r.mean_ms) },
          { key: 'mean_request_bytes', label: 'Mean request', num: true, sort: 'request_bytes', cell: (r) => bytes(r.mean_request_bytes), title: (r) => count(r.mean_request_bytes) + ' bytes' },
          { key: 'mean_response_bytes', label: 'Mean response', num: true, sort: 'response_bytes', cell: (r) => bytes(r.mean_response_bytes), title: (r) => count(r.mean_response_bytes) + ' bytes' },
        ];
        async function endpointsPage(params) {
          const answer = await api('endpoints', rangeParams(params));
          showCovered(answer);
          const rows = arr(answer.endpoints).map(obj);
          return [
            el('h1', {}, 'Endpoints'),
            section(rows.length + (rows.length === 1 ? ' endpoint' : ' endpoints'),
              table('endpoints', ENDPOINT_COLUMNS, rows, { sort: { page: 'endpoints', params: params }, rowId: (r) => str(r.method) + ' ' + str(r.route), hot: (r) => (num(r.server_errors) || 0) > 0 })),
          ];
        }

        async function endpointPage(params) {
          const method = params.get('method') || '', path = params.get('route') || '';
          const answer = await api('endpoint', Object.assign({ method: method, route: path }, rangeParams(params)));
          showCovered(answer);
          const statuses = Object.entries(obj(answer.statuses)).map(([status, n]) => ({ status: status, count: n })).sort((a, b) => str(a.status).localeCompare(str(b.status)));
          return [
            el('h1', {}, str(answer.method || method) + ' ' + str(answer.route || path)),
            el('div', { class: 'tiles' }, countTiles(answer), latencyTiles(answer),
              tile('mean_ms', 'Mean (ms)', ms(answer.mean_ms)),
              tile('mean_response_bytes', 'Mean response', bytes(answer.mean_response_bytes), null, count(answer.mean_response_bytes) + ' bytes')),
            el('div', { class: 'grid2' },
              section('Traffic', trafficChart(answer.series, 'requests of this endpoint over time')),
              section('Latency (ms)', latencyChart(answer.series, 'latency of this endpoint over time'))),
            el('div', { class: 'grid2' },
              section('Latency distribution', histogramChart(answer.latency_histogram)),
              section('Status codes', table('statuses', [
                { key: 'status', label: 'Status', cell: (r) => el('span', { class: statusClass(Number(r.status)) }, str(r.status)) },
                { key: 'count', label: 'Calls', num: true },
                { key: 'share', label: 'Share %', num: true, cell: (r) => percent(r.count, answer.requests) },
              ], statuses, { rowId: (r) => str(r.status) }))),
            section('Top consumers', table('top-consumers', [
              { key: 'consumer', label: 'Consumer', cell: (r) => consumerLink(r.consumer) },
              { key: 'name', label: 'Name' },
              { key: 'calls', label: 'Calls', num: true },
            ], arr(answer.top_consumers).map(obj), { rowId: (r) => str(r.consumer), empty: 'No identified consumer in the log for this range.' })),
            section('Server errors', errorsTable(answer.errors)),
            section('Recent calls', callsTable('calls', answer.recent),
              el('p', { class: 'more' }, el('a', { href: href('calls', { method: str(answer.method || method), route: str(answer.route || path) }) }, 'All calls of this endpoint'))),
          ];
        }

        const CONSUMER_COLUMNS = [
          { key: 'id', label: 'Consumer', cell: (r) => consumerLink(r.id) },
          { key: 'name', label: 'Name', wrap: true },
          { key: 'requests', label: 'Requests', num: true },
          { key: 'client_errors', label: '4xx', num: true },
          { key: 'server_errors', label: '5xx', num: true },
          { key: 'first_seen', label: 'First seen', cell: (r) => timeNode(r.first_seen) },
          { key: 'last_seen', label: 'Last seen', cell: (r) => timeNode(r.last_seen) },
        ];
        async function consumersPage(params) {
          const answer = await api('consumers', rangeParams(params));
          showCovered(answer);
          const rows = arr(answer.consumers).map(obj);
          return [
            el('h1', {}, 'Consumers'),
            el('div', { class: 'tiles' }, tile('consumers', 'Consumers', String(rows.length)), tile('anonymous', 'Anonymous requests', count(answer.anonymous)),
              tile('excluded', 'Left out on purpose (health checks, probes, the view)', count(answer.excluded)),
              tile('unattributed', 'Unattributed (event dropped or not yet processed)', count(answer.unattributed))),
            section('By requests', table('consumers', CONSUMER_COLUMNS, rows, { sort: { page: 'consumers', params: params }, rowId: (r) => str(r.id) })),
          ];
        }

        async function consumerPage(params) {
          const id = params.get('id') || '';
          const answer = await api('consumer', Object.assign({ id: id }, rangeParams(params)));
          showCovered(answer);
          const metadata = Object.entries(obj(answer.metadata));
          return [
            el('h1', {}, 'Consumer ', el('span', { 'data-field': 'id' }, str(answer.id || id))),
            el('div', { class: 'tiles' }, countTiles(answer)),
            el('div', { class: 'grid2' },
              section('Profile', kv([
                ['Id', str(answer.id), 'id'], ['Name', str(answer.name), 'name'], ['Email', str(answer.email), 'email'],
                ['Company', str(answer.company), 'company'], ['Group', str(answer.group), 'group'],
                ['First seen', timeNode(answer.first_seen)], ['Last seen', timeNode(answer.last_seen)],
                ...metadata.map(([name, value]) => [name, typeof value === 'object' && value !== null ? JSON.stringify(value) : str(value)]),
              ])),
              section('Traffic', trafficChart(answer.series, 'requests of this consumer over time'))),
            section('Endpoints used', table('consumer-endpoints', [
              { key: 'route', label: 'Endpoint', wrap: true, cell: (r) => endpointLink(r.method, r.route) },
              { key: 'calls', label: 'Calls', num: true },
            ], arr(answer.endpoints).map(obj), { rowId: (r) => str(r.method) + ' ' + str(r.route) })),
            section('Recent calls', callsTable('calls', answer.recent),
              el('p', { class: 'more' }, el('a', { href: href('calls', { consumer: str(answer.id || id) }) }, 'All calls of this consumer'))),
          ];
        }

        async function errorsPage(params) {
          const answer = await api('errors', rangeParams(params));
          showCovered(answer);
          return [
            el('h1', {}, 'Errors'),
            section('Server errors', errorsTable(answer.server_errors)),
            section('Validation errors', table('validation-errors', [
              { key: 'route', label: 'Endpoint', cell: (r) => endpointLink(r.method, r.route) },
              { key: 'field', label: 'Field', wrap: true },
              { key: 'type', label: 'Type' },
              { key: 'message', label: 'Message', wrap: true },
              { key: 'count', label: 'Count', num: true },
              { key: 'first_seen', label: 'First seen', cell: (r) => timeNode(r.first_seen) },
              { key: 'last_seen', label: 'Last seen', cell: (r) => timeNode(r.last_seen) },
            ], arr(answer.validation_errors).map(obj), { rowId: (r) => str(r.method) + ' ' + str(r.route) + ' ' + str(r.field), empty: 'No validation errors in this range.' })),
          ];
        }

        function figureRows(source, isHot) {
          return Object.entries(source).filter(([, v]) => v === null || typeof v !== 'object').map(([name, value]) => ({ name: name, value: value, hot: isHot(name, value) }));
        }
        async function pipelinePage() {
          const answer = await api('pipeline', {});
          const store = answer.store && typeof answer.store === 'object' ? obj(answer.store) : null;
          const lossy = (name, value) => /dropped|failed|error/.test(name) && value !== null && value !== 0 && value !== '' && value !== false;
          const columns = [
            { key: 'name', label: 'Counter', cell: (r) => r.name.replace(/_/g, ' ') },
            { key: 'value', label: 'Value', num: true, cell: (r) => typeof r.value === 'number' ? count(r.value) : (r.value === null ? '–' : str(r.value)), title: (r) => typeof r.value === 'number' ? grouped(r.value) : null },
          ];
          const pipelineRows = figureRows(answer, lossy);
          const drops = pipelineRows.filter((r) => r.hot).length;
          return [
            el('h1', {}, 'Pipeline health'),
            drops ? el('p', { class: 'bad' }, drops + (drops === 1 ? ' counter says' : ' counters say') + ' events were lost or failed; they are highlighted below.') : el('p', { class: 'good' }, 'Nothing dropped or failed.'),
            el('div', { class: 'grid2' },
              section('Pipeline', table('pipeline', columns, pipelineRows, { rowId: (r) => r.name, hot: (r) => r.hot })),
              store ? section('Store',
                kv([['Path', str(store.path), 'store-path'], ['Size', bytes(store.bytes) + ' of ' + bytes(store.max_bytes), 'store-size'],
                    ['Retention', count(store.retention_days) + ' days', 'retention'], ['Calls kept', count(store.calls), 'store-calls'],
                    ['Oldest call', timeNode(store.oldest_call)], ['Schema version', count(store.schema_version)]]),
                meter(store.bytes, store.max_bytes),
                store.last_error ? el('p', { class: 'bad', 'data-field': 'last_error' }, 'Last error: ' + str(store.last_error)) : null,
                el('h3', {}, 'All store figures'),
                table('store', columns, figureRows(store, lossy), { rowId: (r) => r.name, hot: (r) => r.hot }))
                : section('Store', el('p', { class: 'empty' }, 'No store figures in the answer.'))),
          ];
        }

        """#
}
