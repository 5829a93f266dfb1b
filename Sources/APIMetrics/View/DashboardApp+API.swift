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

        async function apiPage(params) {
          const [document, answer] = await Promise.all([fetchObject(BASE + '/openapi.json'), api('changes', rangeParams(params))]);
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
            section('Changes', table('changes', CHANGE_COLUMNS, arr(answer.changes).map(obj),
              { rowId: (r) => str(r.kind) + ' ' + str(r.method) + ' ' + str(r.route) + ' ' + str(r.location), empty: 'No change in this range.' })),
            section('Shapes', rows.map(operationDetails)),
          ];
        }

        """#
}
