import Foundation

/// What `apimetrics --help` and `apimetrics COMMAND --help` print.
package enum HelpText {
    /// The usage line printed under an argument error.
    static func usageLine(for command: String?) -> String {
        let name = command.flatMap(CommandLineArguments.Command.init(rawValue:))
        let line = name.map { synopsis[$0] ?? "" } ?? "apimetrics report|calls|usage|openapi FILE... [OPTIONS]"
        return "usage: \(line)\n       apimetrics \(name?.rawValue ?? "") --help".replacingOccurrencesOfDoubleSpace()
            + " for more\n"
    }

    static let synopsis: [CommandLineArguments.Command: String] = [
        .report: "apimetrics report STORE|NDJSON... [--by endpoint|consumer] [--since T] [--until T] [--format table|csv|json]",
        .calls:
            "apimetrics calls STORE... [--since T] [--until T] [--method M] [--route R] [--status S] [--consumer C] [--min-ms N] [--path TEXT] [--limit N] [--json]",
        .usage: "apimetrics usage STORE... [--since T] [--until T] [--per day|month]",
        .openapi: "apimetrics openapi STORE... [--format json|yaml] [--title TEXT] | --diff SPEC STORE... [--format json]",
        .alerts: "apimetrics alerts --prometheus RULES",
    ]

    /// The help for one command, or the overview with `nil`.
    package static func text(for command: CommandLineArguments.Command?) -> String {
        switch command {
        case nil: overview
        case .report?: report
        case .calls?: calls
        case .usage?: usage
        case .openapi?: openapi
        case .alerts?: alerts
        }
    }

    static let times = """
          --since T     from T: a span back from now (90s, 30m, 2h, 7d, 2w), an RFC 3339
                        time (2026-12-06T15:00:00Z, 2026-12-06T16:00:00+01:00) or a date
                        (2026-12-06, its midnight UTC). Default: the whole history.
          --until T     up to T (same forms). Default: now.
        """

    static let overview = """
        apimetrics: read what APIMetrics recorded, from the command line.

        usage: apimetrics COMMAND FILE... [OPTIONS]

        Commands:
          report   calls, errors and latency per endpoint or consumer over a time range
          calls    the request log, newest first, filtered as the dashboard's explorer
          usage    calls per consumer per day or month, as CSV (for billing by usage)
          openapi  the OpenAPI 3.1 document the recorded traffic implies, stores merged
          alerts   alert rules (APIMETRICS_ALERTS's file, or default) as Prometheus rules

        FILE is a store (apimetrics.sqlite, an SQLite file: one per instance) or, for
        report only, an NDJSON file APIMetrics wrote (APIMETRICS_FILE). Name several
        files to merge them: counts are summed, latency sketches merged, so the
        percentiles are those of all the calls, within 1%.

        Run `apimetrics COMMAND --help` for a command's options.

        Exit status: 0 done, 1 a file cannot be read or is not a store (or NDJSON),
        2 an argument is wrong (the message names it).

        """

    static let openapi = """
        usage: \(synopsis[.openapi] ?? "")

        The OpenAPI 3.1 document API discovery learnt from the calls (routes, methods,
        parameters, request and response bodies per status as JSON Schema, security
        schemes), merged over every store named: one per instance, or an earlier
        run's. Shapes and counts only: no value a client sent is in the document.

          --format F    json (the default) or yaml
          --title TEXT  the document's info.title (default: API observed by APIMetrics)
          --diff SPEC   compare with your own OpenAPI 3.0/3.1 document (JSON or YAML)
                        instead: operations called but not in it, operations in it never
                        called, statuses, media types, query parameters and body members
                        not in it, and the calls the stores counted as breaking it (when
                        recorded with APIMETRICS_OPENAPI_SPEC set to the same file). Exits 3
                        when anything differs, 0 when the API and the spec agree.

        """

    static let alerts = """
        usage: \(synopsis[.alerts] ?? "")

        The alert rules of RULES (the JSON file APIMETRICS_ALERTS names, or default for
        the built-in rules) as Prometheus alerting rules over the metric names of
        /metrics, for a team that runs many instances and alerts on their sum. Rules
        Prometheus cannot evaluate from /metrics (new error groups, consumers' error
        rates, API changes, consumer scopes) are left out and named on standard error.
        Check the result with `promtool check rules`.

          --prometheus  write Prometheus rules (YAML) to standard output

        """

    static let report = """
        usage: \(synopsis[.report] ?? "")

        Calls, 4xx and 5xx, latency p50/p95/p99 and mean per endpoint (or calls and
        errors per consumer) over the range, merged over every file named.

        Options:
          --by endpoint|consumer   one row per method and route (default) or per consumer
        \(times)
          --format table|csv|json  how to print the rows (default: table)

        A file that starts with SQLite's header is read as a store; any other as
        NDJSON, whose metrics windows count when they end within the range (all of
        them when neither --since nor --until is given). Store figures are at
        one-minute resolution (hours and days once rolled up).

        CSV is a header row then one row a line (RFC 4180: quoted where needed,
        CRLF line ends); a cell that a spreadsheet would run as a formula
        (starting with =, +, -, @, tab or CR) gets a leading '. JSON is an array of
        row objects. Columns by endpoint:
          method, route, calls, client_errors, server_errors, p50_ms, p95_ms, p99_ms,
          mean_ms, mean_request_bytes, mean_response_bytes
        by consumer (calls are weighted when calls were sampled):
          consumer, name, calls, client_errors, server_errors
        Milliseconds are to the microsecond; empty (CSV) or null (JSON) where an
        endpoint has no call with a duration. Control characters in a route or id
        are escaped in the table (and in CSV written to a terminal).

        Example:
          apimetrics report a.sqlite b.sqlite --since 2h --format json

        """

    static let calls = """
        usage: \(synopsis[.calls] ?? "")

        The calls the stores logged, newest first, merged by time across stores: one
        line a call with its time (UTC), method (→ for an outgoing call), path (as
        redacted), status (- when no response came), duration in ms and consumer.

        Options:
        \(times)
          --method M       calls with this method (as recorded: GET, POST...)
          --route R        calls matched to this route template (/orders/{id})
          --status S       this status (404; 0 for no response) or class (4xx)
          --consumer C     calls identified as this consumer id
          --min-ms N       calls that took at least N milliseconds
          --path TEXT      calls whose recorded path contains TEXT
          --limit N        at most N calls, 1 to \(CommandLineArguments.maxLimit) (default: 100)
          --json           one JSON object a line:
                           id, time, time_ns, method, route, path, status, duration_ms,
                           consumer, request_bytes, response_bytes, outgoing,
                           error_type, error_message, store

        Example:
          apimetrics calls apimetrics.sqlite --since 1h --status 5xx --consumer acme

        """

    static let usage = """
        usage: \(synopsis[.usage] ?? "")

        Calls per consumer per UTC day (or month), summed over the stores, as CSV:
        period,consumer,calls. The calls come from the metrics, so they are exact
        even when the log kept only some calls (sampled calls count their weight:
        then the calls carry decimals; integers when all are whole). Days are
        whole: a day counts when any part of it is within --since and --until
        (--until 2026-12-01 stops before that day). Calls of no consumer are left
        out.

        Options:
        \(times)
          --per day|month  one row per consumer per day (default) or per month

        Example:
          apimetrics usage eu.sqlite us.sqlite --since 2026-11-01 --until 2026-12-01 --per month

        """
}

extension String {
    fileprivate func replacingOccurrencesOfDoubleSpace() -> String {
        var text = self
        while let range = text.range(of: "  --help") { text.replaceSubrange(range, with: " --help") }
        return text
    }
}
