import APIMetricsReport
import Foundation

// apimetrics report FILE… [--by endpoint|consumer]
//
// Prints the per-endpoint table (or the per-consumer one) from the metrics
// windows in APIMetrics' NDJSON files, rotated ones included.

func usage(_ message: String? = nil) -> Never {
    if let message { FileHandle.standardError.write(Data("apimetrics: \(message)\n".utf8)) }
    FileHandle.standardError.write(Data("usage: apimetrics report FILE... [--by endpoint|consumer]\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.first == "report" else { usage(arguments.first.map { "unknown command \($0)" }) }
arguments.removeFirst()
var files: [String] = []
var byConsumer = false
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--by":
        guard let value = arguments.first else { usage("--by needs endpoint or consumer") }
        arguments.removeFirst()
        switch value {
        case "endpoint": byConsumer = false
        case "consumer": byConsumer = true
        default: usage("--by takes endpoint or consumer, not \(value)")
        }
    case "--help", "-h":
        usage()
    default:
        if argument.hasPrefix("-") { usage("unknown option \(argument)") }
        files.append(argument)
    }
}
guard !files.isEmpty else { usage("name at least one file") }

var report = MetricsReport()
for file in files {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("apimetrics: cannot read \(file)\n".utf8))
        exit(1)
    }
    report.add(ndjson: String(decoding: data, as: UTF8.self))
}
print(byConsumer ? ReportTable.consumers(report) : ReportTable.endpoints(report), terminator: "")
