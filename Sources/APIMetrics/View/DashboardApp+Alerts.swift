extension DashboardApp {
    /// The alerts page (the alerts firing and the transitions told over the
    /// range, from `alerts` of the JSON API) and the line every page shows
    /// while an alert fires.
    static let scriptAlerts = #"""
        const ALERT_EVENT_COLUMNS = [
          { key: 'time', label: 'Time', cell: (r) => timeNode(r.time) },
          { key: 'state', label: 'State', cell: (r) => str(r.state) + (r.repeat === true ? ' (again)' : '') },
          { key: 'rule', label: 'Rule' },
          { key: 'instance', label: 'Which', wrap: true },
          { key: 'summary', label: 'What', wrap: true },
        ];

        async function alertsPage(params) {
          const answer = await api('alerts', Object.assign(rangeParams(params), { limit: '200' }));
          showCovered(answer);
          const firing = arr(answer.firing).map(obj);
          return [
            el('h1', {}, 'Alerts'),
            el('p', { class: 'muted' }, 'Rules evaluated on every metrics window (APIMETRICS_ALERTS); transitions go to the webhooks configured.'),
            section('Firing now', table('alerts-firing', [
              { key: 'rule', label: 'Rule' },
              { key: 'instance', label: 'Which', wrap: true },
              { key: 'since', label: 'Since', cell: (r) => timeNode(r.since) },
              { key: 'value', label: 'Value', num: true, cell: (r) => String(num(r.value)) },
            ], firing, { rowId: (r) => str(r.rule) + ' ' + str(r.instance), empty: 'No alert is firing.' })),
            section('History', table('alerts-events', ALERT_EVENT_COLUMNS, arr(answer.events).map(obj),
              { rowId: (r) => str(r.time) + ' ' + str(r.rule) + ' ' + str(r.instance) + ' ' + str(r.state), empty: 'No alert in this range.' })),
          ];
        }

        // Every page: one line while alerts fire, linking to the alerts page.
        async function refreshAlertLine() {
          const line = document.getElementById('alerts-line');
          let firing = [];
          try { firing = arr(obj(await api('alerts', { range: '1h', limit: '1' })).firing).map(obj); } catch (error) { firing = []; }
          clear(line);
          line.hidden = firing.length === 0;
          if (!firing.length) { return; }
          const names = firing.slice(0, 3).map((r) => str(r.rule) + (str(r.instance) ? ' (' + str(r.instance) + ')' : '')).join(', ');
          append(line, [el('a', { href: href('alerts', {}) }, firing.length + (firing.length === 1 ? ' alert firing: ' : ' alerts firing: ') + names + (firing.length > 3 ? ', …' : ''))]);
        }

        """#
}
