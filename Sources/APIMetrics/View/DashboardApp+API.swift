extension DashboardApp {
    /// The API page: the operations discovery learnt (from the OpenAPI
    /// document the view serves), with their parameters, statuses, first and
    /// last seen and the schema of each body, and the change log over the
    /// range (`changes` of the JSON API).
    static let scriptAPI = #"""
        const CHANGE_COLUMNS = [
          { key: 'time', label: 'First seen', cell: (r) => callLink(r.example_call, localTime(r.time)), title: (r) => str(r.time) },
          { key: 'kind', label: 'Change', cell: (r) => str(r.kind).replace(/_/g, ' ') },
          { key: 'route', label: 'Endpoint', cell: (r) => endpointLink(r.method, r.route) },
          { key: 'location', label: 'Where', wrap: true },
          { key: 'detail', label: 'Detail', wrap: true },
        ];
        const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

        function operationsOf(document) {
          const rows = [];
          for (const [path, item] of Object.entries(obj(obj(document).paths))) {
            for (const method of METHODS) {
              const operation = obj(obj(item)[method]);
              if (!Object.keys(operation).length) { continue; }
              const seen = obj(operation['x-apimetrics']);
              const responses = obj(operation.responses);
              rows.push({
                method: method.toUpperCase(), path: path, operation: operation,
                calls: num(seen.calls), first_seen: str(seen.first_seen), last_seen: str(seen.last_seen),
                statuses: Object.keys(responses).map((s) => s + ' ×' + count(num(obj(responses[s])['x-apimetrics-calls']) || 0)).join(', '),
                parameters: arr(operation.parameters).map((p) => str(obj(p).name) + ' (' + str(obj(p).in) + (obj(p).required === true ? '' : ', optional') + ')').join(', '),
              });
            }
          }
          return rows;
        }

        function schemaView(title, schema) {
          return el('details', {}, el('summary', {}, title), el('pre', { class: 'body' }, JSON.stringify(schema, null, 2)));
        }

        function operationDetails(row) {
          const operation = row.operation;
          const parts = [];
          const request = obj(obj(operation.requestBody).content);
          for (const [type, media] of Object.entries(request)) { parts.push(schemaView('Request ' + type, obj(media).schema)); }
          for (const [status, response] of Object.entries(obj(operation.responses))) {
            for (const [type, media] of Object.entries(obj(obj(response).content))) { parts.push(schemaView('Response ' + status + ' ' + type, obj(media).schema)); }
          }
          return el('section', { class: 'operation', 'data-operation': row.method + ' ' + row.path },
            el('h3', {}, row.method + ' ' + row.path),
            parts.length ? parts : el('p', { class: 'empty' }, 'No JSON body seen (bodies are read when they are captured).'));
        }

        const DIFFERENCE_COLUMNS = [
          { key: 'kind', label: 'Difference', cell: (r) => str(r.kind).replace(/_/g, ' ') },
          { key: 'path', label: 'Endpoint', cell: (r) => str(r.method) + ' ' + str(r.path) },
          { key: 'location', label: 'Where', wrap: true },
        ];
        const FINDING_COLUMNS = [
          { key: 'path', label: 'Endpoint', cell: (r) => str(r.method) + ' ' + str(r.path) },
          { key: 'rule', label: 'Rule', cell: (r) => str(r.rule).replace(/_/g, ' ') },
          { key: 'location', label: 'Where', wrap: true },
          { key: 'count', label: 'Calls', num: true },
          { key: 'first_seen', label: 'First seen', cell: (r) => callLink(r.example_call, localTime(r.first_seen)), title: (r) => str(r.first_seen) },
          { key: 'last_seen', label: 'Last seen', cell: (r) => timeNode(r.last_seen) },
        ];

        // The comparison with the team's own spec, when one is configured.
        function specSection(report) {
          const spec = obj(report.spec);
          if (!Object.keys(spec).length) { return []; }
          const calls = obj(report.calls);
          const summary = 'Checked against ' + str(spec.source) + (str(spec.title) ? ' (' + str(spec.title) + ')' : '') +
            ', OpenAPI ' + str(spec.openapi) + ', ' + count(num(spec.operations)) + ' operations: ' +
            count(num(calls.checked)) + ' calls checked, ' + count(num(calls.conforming)) + ' conforming, ' +
            count(num(calls.violating)) + ' breaking it, ' + count(num(calls.unmatched)) + ' matching no path.';
          return [
            section('Against your spec', [
              el('p', { class: 'muted', id: 'spec-summary' }, summary),
              arr(spec.notes).length ? el('ul', { class: 'muted' }, arr(spec.notes).map((n) => el('li', {}, str(n)))) : [],
              el('h3', {}, 'What the learnt API has that the spec does not say, and the reverse'),
              table('spec-differences', DIFFERENCE_COLUMNS, arr(report.differences).map(obj),
                { rowId: (r) => str(r.kind) + ' ' + str(r.method) + ' ' + str(r.path) + ' ' + str(r.location), empty: 'The learnt API and the spec agree.' }),
              el('h3', {}, 'Calls that break it'),
              table('spec-findings', FINDING_COLUMNS, arr(report.findings).map(obj),
                { rowId: (r) => str(r.rule) + ' ' + str(r.method) + ' ' + str(r.path) + ' ' + str(r.location), empty: 'No call broke the spec.' }),
            ]),
          ];
        }

        async function apiPage(params) {
          const [document, answer, report] = await Promise.all([
            fetchObject(BASE + '/openapi.json'), api('changes', rangeParams(params)), fetchObject(BASE + '/spec.json')]);
          showCovered(answer);
          const rows = operationsOf(document);
          return [
            el('h1', {}, 'API'),
            el('p', { class: 'muted' }, 'What the traffic implies, learnt from the calls: shapes and counts, never a value. ',
              el('a', { href: BASE + '/openapi.json' }, 'The OpenAPI 3.1 document')),
            section('Endpoints', table('operations', [
              { key: 'path', label: 'Endpoint', cell: (r) => endpointLink(r.method, r.path) },
              { key: 'calls', label: 'Calls', num: true },
              { key: 'statuses', label: 'Statuses', wrap: true },
              { key: 'parameters', label: 'Parameters', wrap: true },
              { key: 'first_seen', label: 'First seen', cell: (r) => timeNode(r.first_seen) },
              { key: 'last_seen', label: 'Last seen', cell: (r) => timeNode(r.last_seen) },
            ], rows, { rowId: (r) => r.method + ' ' + r.path, empty: 'No endpoint learnt yet.' })),
            specSection(report),
            section('Changes', table('changes', CHANGE_COLUMNS, arr(answer.changes).map(obj),
              { rowId: (r) => str(r.kind) + ' ' + str(r.method) + ' ' + str(r.route) + ' ' + str(r.location), empty: 'No change in this range.' })),
            section('Shapes', rows.map(operationDetails)),
          ];
        }

        """#
}
