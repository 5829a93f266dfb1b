/// The local analytics app (`/_apimetrics` when a store is configured): one
/// self-contained page that reads the JSON API v1 under its own path and
/// draws every screen in the browser. Nothing is downloaded: the shell, its
/// one style sheet and its one script are the literals below, and the
/// Content-Security-Policy allows exactly those two by their hashes and
/// requests to the page's own origin, nothing else.
///
/// The script treats every string the API returns as hostile (paths, header
/// values, bodies and consumer names come from clients): it builds the DOM
/// with `createElement` and `textContent`, never parses markup, and builds
/// links only from `#/…` fragments it encodes itself.
///
/// The script's parts live in `DashboardApp+*.swift`; ``script`` joins them
/// in order, so one `<script>` element (one hash) carries them all.
enum DashboardApp {
    static let contentType = "text/html; charset=utf-8"

    /// The whole page: the shell with ``style`` and ``script`` inline.
    /// `Tests/EndToEnd/dashboard_fixture.py` assembles the same text from
    /// these literals, so keep this expression a plain concatenation.
    static let page =
        shellHead + "<style>" + style + "</style>\n" + shellBody + "<script>" + script + "</script>\n</body></html>\n"

    /// The script: its parts in the order they must run.
    static let script = scriptCore + scriptCharts + scriptPages + scriptAPI + scriptAlerts + scriptCalls

    /// `'sha256-…'` of ``style``, as CSP's `style-src` names it.
    static let styleHash = "'sha256-" + Base64.encode(SHA256.hash(Array(style.utf8))) + "'"

    /// `'sha256-…'` of ``script``, as CSP's `script-src` names it.
    static let scriptHash = "'sha256-" + Base64.encode(SHA256.hash(Array(script.utf8))) + "'"

    /// The policy the page is served with: its own script and style by hash,
    /// images only as `data:` URLs, requests only to its own origin (the API),
    /// no base, no form submission, no framing.
    static func contentSecurityPolicy() -> String {
        "default-src 'none'; script-src \(scriptHash); style-src \(styleHash); img-src data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// The page's bytes, as the view serves them.
    static func render() -> [UInt8] {
        Array(page.utf8)
    }

    /// Everything before the style: fixed text, no data.
    static let shellHead = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <link rel="icon" href="data:,">
        <title>APIMetrics</title>

        """#

    /// The body's fixed frame; the script fills `#service`, `#banner`,
    /// `#range-label` and `#main`.
    static let shellBody = #"""
        </head><body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top"><div class="brand"><a href="#/overview">APIMetrics</a> <span id="service" class="muted"></span></div>
        <nav aria-label="Pages">
        <a href="#/overview" data-page="overview">Overview</a>
        <a href="#/endpoints" data-page="endpoints">Endpoints</a>
        <a href="#/consumers" data-page="consumers">Consumers</a>
        <a href="#/calls" data-page="calls">Request log</a>
        <a href="#/errors" data-page="errors">Errors</a>
        <a href="#/api" data-page="api">API</a>
        <a href="#/alerts" data-page="alerts">Alerts</a>
        <a href="#/pipeline" data-page="pipeline">Pipeline</a>
        </nav></header>
        <div class="rangebar" role="group" aria-label="Time range">
        <span class="muted">Range</span>
        <button type="button" data-range="1h">Last hour</button>
        <button type="button" data-range="24h">Last day</button>
        <button type="button" data-range="7d">Last week</button>
        <button type="button" data-range="30d">Last month</button>
        <form id="range-custom" class="custom">
        <label>From <input type="datetime-local" id="range-from" name="from"></label>
        <label>To <input type="datetime-local" id="range-to" name="to"></label>
        <button type="submit" id="range-apply">Apply</button>
        </form>
        <button type="button" id="refresh">Refresh</button>
        <button type="button" id="share-link">Copy link</button>
        <span id="share-state" class="muted" aria-live="polite"></span>
        <span id="range-label" class="muted"></span>
        </div>
        <div id="banner" class="banner" role="alert" hidden></div>
        <div id="alerts-line" class="alerts-line" role="status" hidden></div>
        <main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
        <noscript><p class="banner">This page needs JavaScript; its data is also served as JSON under api/v1/.</p></noscript>

        """#

    /// The only style sheet. Colours are variables so that the dark scheme
    /// (the system's setting) swaps them in one place; SVG charts take their
    /// colours from classes here, never from inline style.
    static let style = #"""
        :root{--bg:#f6f7f9;--fg:#1d2430;--panel:#fff;--line:#e1e4e8;--soft:#eef0f2;--muted:#5d6670;--accent:#1f6feb;
        --ok:#3b82c4;--warn:#b36200;--bad:#c62828;--good:#2e7d32;--gap:#d64545;--head:#1d2430;--headfg:#fff;
        --p50:#3b82c4;--p95:#9b59b6;--p99:#d64545;--c4:#f0a030;--c5:#d64545;--pre:#f3f4f6;color-scheme:light dark}
        @media (prefers-color-scheme:dark){:root{--bg:#0f1419;--fg:#dde3ea;--panel:#161c23;--line:#2a323c;--soft:#1f262e;
        --muted:#9aa5b1;--accent:#6cb6ff;--ok:#5a9fe0;--warn:#f0a030;--bad:#ff6b6b;--good:#57c26a;--gap:#ff6b6b;
        --head:#0b0f13;--headfg:#dde3ea;--p50:#5a9fe0;--p95:#c08ae0;--p99:#ff6b6b;--c4:#f0a030;--c5:#ff6b6b;--pre:#0b0f13}}
        *{box-sizing:border-box}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:var(--bg);color:var(--fg)}
        a{color:var(--accent)}
        :focus-visible{outline:2px solid var(--accent);outline-offset:2px}
        .skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;z-index:2;background:var(--panel);padding:4px 8px}
        header.top{background:var(--head);color:var(--headfg);padding:10px 20px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}
        header.top a{color:var(--headfg)}
        .brand{font-weight:600;font-size:16px}.brand .muted{font-weight:400;font-size:13px;color:#b8c0cc}
        nav{display:flex;flex-wrap:wrap;gap:4px 14px}
        .alerts-line{margin:8px 16px;padding:8px 12px;border-radius:6px;background:#fdecea;border:1px solid #f5c2c0;font-weight:600}
        .alerts-line a{color:#8a1c14}
        nav a{text-decoration:none;padding:2px 0;border-bottom:2px solid transparent}
        nav a[aria-current=page]{border-bottom-color:var(--accent)}
        .rangebar{display:flex;flex-wrap:wrap;gap:6px 8px;align-items:center;padding:8px 20px;border-bottom:1px solid var(--line);background:var(--panel)}
        .rangebar .custom{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:0}
        button{font:inherit;color:var(--fg);background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:3px 9px;cursor:pointer}
        button[aria-pressed=true]{background:var(--accent);border-color:var(--accent);color:#fff}
        button:disabled{opacity:.5;cursor:default}
        input,select{font:inherit;color:var(--fg);background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:2px 6px;max-width:100%}
        .banner{margin:12px 20px;padding:10px 14px;border:1px solid var(--bad);border-radius:6px;color:var(--bad);background:var(--panel);overflow-wrap:anywhere}
        main{padding:14px 20px;max-width:1280px}
        main:focus{outline:none}main[aria-busy=true]{opacity:.55;transition:opacity .2s .15s}
        h1{font-size:18px;margin:0 0 12px;overflow-wrap:anywhere}h2{font-size:15px;margin:0 0 8px}h3{font-size:13px;margin:10px 0 6px}
        section{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin:0 0 14px;min-width:0}
        .grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:14px;margin:0 0 14px}
        .grid2>section{margin:0}
        .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:10px;margin:0 0 14px}
        .tile{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 12px}
        .tile .label{display:block;color:var(--muted);font-size:12px}
        .tile b{display:block;font-size:21px;font-variant-numeric:tabular-nums}
        .tile .sub{color:var(--muted);font-size:12px}
        .muted{color:var(--muted)}.bad{color:var(--bad)}.warn{color:var(--warn)}.good{color:var(--good)}
        tr.hot td{background:var(--soft)}tr.hot td.n{color:var(--bad);font-weight:600}
        .scroll{overflow-x:auto;max-width:100%}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--soft);white-space:nowrap;vertical-align:top}
        th{font-weight:600;color:var(--muted);font-size:12px}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:12em}
        th button.sort{background:none;border:none;padding:0;color:inherit;font-weight:600;font-size:12px}
        th[aria-sort=ascending] button.sort::after{content:" ▲"}th[aria-sort=descending] button.sort::after{content:" ▼"}
        dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:3px 14px;margin:0}
        dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
        .head{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:baseline;font-size:16px;margin:0 0 10px}
        .head [data-field=path]{overflow-wrap:anywhere;min-width:0}
        .status-2{color:var(--good)}.status-3{color:var(--muted)}.status-4{color:var(--warn)}.status-5,.status-0{color:var(--bad)}
        pre{background:var(--pre);border:1px solid var(--line);border-radius:4px;padding:8px;margin:6px 0;max-height:480px;overflow:auto;
        white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        form#filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;align-items:end}
        form#filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
        form#filters .actions{display:flex;gap:6px}
        .legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:4px 0 0}
        .legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
        .sw-ok{background:var(--ok)}.sw-c4{background:var(--c4)}.sw-c5{background:var(--c5)}
        .sw-p50{background:var(--p50)}.sw-p95{background:var(--p95)}.sw-p99{background:var(--p99)}
        .sw-up{background:var(--good)}.sw-gap{background:var(--gap)}.sw-none{background:var(--soft)}
        svg.chart{display:block;width:100%;height:auto}svg.chart.bar{height:18px;margin:8px 0 2px}
        .ends{display:flex;justify-content:space-between;gap:8px;font-size:12px;color:var(--muted)}
        svg.chart text{font-size:11px;fill:var(--muted)}
        svg.chart .axis{stroke:var(--line)}svg.chart .grid{stroke:var(--soft)}
        svg.chart .f-ok{fill:var(--ok)}svg.chart .f-c4{fill:var(--c4)}svg.chart .f-c5{fill:var(--c5)}
        svg.chart .f-up{fill:var(--good)}svg.chart .f-gap{fill:var(--gap)}svg.chart .f-none{fill:var(--soft)}
        svg.chart .f-bar{fill:var(--ok)}svg.chart .f-meter{fill:var(--accent)}svg.chart .f-over{fill:var(--bad)}
        svg.chart .l-p50,svg.chart .l-p95,svg.chart .l-p99{fill:none;stroke-width:1.6}
        svg.chart .l-p50{stroke:var(--p50)}svg.chart .l-p95{stroke:var(--p95)}svg.chart .l-p99{stroke:var(--p99)}
        svg.chart .d-p50{fill:var(--p50)}svg.chart .d-p95{fill:var(--p95)}svg.chart .d-p99{fill:var(--p99)}
        .empty{color:var(--muted);font-style:italic}
        .more{margin:8px 0 0;display:flex;gap:10px;align-items:center}
        @media (max-width:600px){header.top,.rangebar{padding:8px 10px}main{padding:10px}.banner{margin:10px}
        section{padding:10px}.tile b{font-size:18px}}
        """#
}
