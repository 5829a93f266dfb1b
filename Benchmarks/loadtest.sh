#!/usr/bin/env bash
# End-to-end cost of APIMetrics in a real server: the demo, built in release,
# driven by wrk at saturation with the middleware off (APIMETRICS_DISABLED=1:
# no tap on the connections at all) and on (body capture, file exporter),
# alternating runs, on GET /orders/{id} and POST /orders. Then a run with the
# collector unreachable, comparing the demo's peak RSS with the queue bound.
# In between, the exact count: the metrics' request total beside wrk's, at
# saturation, while most events are dropped. The script exits non-zero when
# they differ.
#
# usage: Benchmarks/loadtest.sh
#   LOADTEST_DURATION=6        seconds per wrk run
#   LOADTEST_ROUNDS=4          off/on pairs per endpoint
#
# The host's speed drifts by 10-30% over minutes on a shared machine: many
# short alternating rounds (off then on, then on then off) cancel more of
# that drift than a few long ones, and each round's own on/off ratio is
# printed so that a drifting round shows. Use an even number of rounds.
# Each run also reads the demo's CPU time (user + system, /proc) per request
# served: what the middleware adds to each request in CPU, request path and
# sender together.
#   LOADTEST_DEAD_DURATION=60  seconds of load with the collector unreachable
#   LOADTEST_CONNECTIONS=32
#   LOADTEST_EXACT_THREADS=8   wrk threads (one connection each) for the exact count
#   LOADTEST_RATE_DURATION=10  seconds per fixed-rate run
#   LOADTEST_RATE_SHARE=50     the fixed rate, in percent of bare saturation
#   LOADTEST_PARTS="overhead exact rate dead"   the parts to run
#
# The rate part: each endpoint at half of its bare saturation rate (the
# overhead part's off runs, or a run of its own), on a fixed schedule, with
# the middleware off, on with every event to a file, on with every event to
# a live HTTP collector, and on with the collector unreachable (ABBA order).
# With a destination that answers, every event must be exported and none
# dropped (the script fails otherwise); with none, the requests' latency is
# set beside the live collector's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
duration="${LOADTEST_DURATION:-6}"
rounds="${LOADTEST_ROUNDS:-4}"
dead_duration="${LOADTEST_DEAD_DURATION:-60}"
connections="${LOADTEST_CONNECTIONS:-32}"
exact_threads="${LOADTEST_EXACT_THREADS:-8}"
rate_duration="${LOADTEST_RATE_DURATION:-10}"
rate_share="${LOADTEST_RATE_SHARE:-50}"
parts="${LOADTEST_PARTS:-overhead exact rate dead}"
has() { [[ " $parts " == *" $1 "* ]]; }
queue_bytes=$((64 * 1024 * 1024))

for tool in wrk jq curl bc; do
    if ! command -v "$tool" >/dev/null; then
        echo "installing $tool"
        apt-get update -qq >/dev/null && apt-get install -y -qq "$tool" >/dev/null
    fi
done
swift build -c release --product apimetrics-demo --package-path "$root" >/dev/null
bin="$(swift build -c release --package-path "$root" --show-bin-path)"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; [ -n "${collector_pid:-}" ] && kill "$collector_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"item":"lamp","quantity":2,"note":"load test"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "demo-key-acme"
LUA
cat > "$work/get.lua" <<'LUA'
wrk.headers["X-API-Key"] = "demo-key-acme"
LUA
# wrk stops a run by closing its connections, each with a request in
# flight that the server may well have answered: its count then falls short
# of the requests served by up to one per connection. With one connection
# per thread, a thread that stops itself right after a response leaves
# nothing in flight, so the count is exact. os.time() has a resolution of a
# second: the threads stop between EXACT_SECONDS - 1 and EXACT_SECONDS in.
for endpoint in get post; do
    { cat "$work/$endpoint.lua"; cat <<'LUA'
local seconds = tonumber(os.getenv("EXACT_SECONDS") or "5")
function init(args) deadline = os.time() + seconds end
function response(status, headers, body)
    if os.time() >= deadline then wrk.thread:stop() end
end
LUA
    } > "$work/exact-$endpoint.lua"
done

# A fixed rate (Benchmarks/paced.lua): each wrk thread sends its share on
# a fixed schedule.
for endpoint in get post; do
    cat "$work/$endpoint.lua" "$root/Benchmarks/paced.lua" > "$work/paced-$endpoint.lua"
done

start_demo() {
    : > "$work/out"
    env "$@" "$bin/apimetrics-demo" --port 0 > "$work/out" 2> "$work/err" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$work/out" && break
        sleep 0.1
    done
    port="$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")"
    [ -n "$port" ] || { echo "the demo did not start: $(cat "$work/err")"; exit 1; }
}

stop_demo() {
    kill -TERM "$pid"
    wait "$pid" || { echo "the demo exited with $?"; exit 1; }
    pid=""
}

# The demo's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
ticks_per_s="$(getconf CLK_TCK)"

# Prints "requests_per_s p50_ms p99_ms requests cpu_ticks" for one wrk run:
# the last two give the demo's CPU time per request, a steadier measure of
# the middleware's cost than requests/s on a host whose speed drifts.
drive() {
    local script="$1" path="$2" seconds="$3" before after
    before="$(cpu_ticks)"
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/$script" "http://127.0.0.1:$port$path" > "$work/wrk.txt"
    after="$(cpu_ticks)"
    awk -v ticks="$((after - before))" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec:/ { rps = $2 }
        /requests in/ { requests = $1 }
        /^ *50%/ { p50 = ms($2) }
        /^ *99%/ { p99 = ms($2) }
        END { printf "%.1f %.3f %.3f %d %d\n", rps, p50, p99, requests, ticks }
    ' "$work/wrk.txt"
}

if has overhead; then
    declare -A sum_rps sum_p50 sum_p99 round_rps round_p99 sum_requests sum_ticks
    round_ratios=()
    round_p99_ratios=()
    for mode in off on; do for endpoint in get post; do
        sum_rps[$mode$endpoint]=0; sum_p50[$mode$endpoint]=0; sum_p99[$mode$endpoint]=0
        sum_requests[$mode$endpoint]=0; sum_ticks[$mode$endpoint]=0
    done; done

    echo "wrk: $connections connections, ${duration}s per run, $rounds rounds, off and on alternating (off first in odd rounds, on first in even ones)"
    for round in $(seq 1 "$rounds"); do
        # Off first in odd rounds, on first in even ones: a host that speeds up
        # or slows down over the run favours neither side.
        order="off on"
        [ $((round % 2)) = 0 ] && order="on off"
        for mode in $order; do
            if [ "$mode" = off ]; then
                start_demo APIMETRICS_DISABLED=1
            else
                start_demo APIMETRICS_LOG_BODY=true APIMETRICS_FILE="$work/events.ndjson"
            fi
            for endpoint in get post; do
                if [ "$endpoint" = get ]; then result="$(drive get.lua /orders/42 "$duration")"; else result="$(drive post.lua /orders "$duration")"; fi
                read -r rps p50 p99 requests ticks <<< "$result"
                printf "  round %s  %-3s  %-4s  %s req/s  p50 %s ms  p99 %s ms  cpu %.1f us/req\n" "$round" "$mode" "$endpoint" \
                    "$rps" "$p50" "$p99" "$(echo "$ticks * 1000000 / $ticks_per_s / $requests" | bc -l)"
                sum_requests[$mode$endpoint]=$((sum_requests[$mode$endpoint] + requests))
                sum_ticks[$mode$endpoint]=$((sum_ticks[$mode$endpoint] + ticks))
                round_rps[$mode$endpoint]="$rps"
                round_p99[$mode$endpoint]="$p99"
                sum_rps[$mode$endpoint]="$(echo "${sum_rps[$mode$endpoint]} + $rps" | bc -l)"
                sum_p50[$mode$endpoint]="$(echo "${sum_p50[$mode$endpoint]} + $p50" | bc -l)"
                sum_p99[$mode$endpoint]="$(echo "${sum_p99[$mode$endpoint]} + $p99" | bc -l)"
            done
            stop_demo
            if [ "$mode" = on ]; then
                # What the sender made of it: at saturation it runs on what the
                # server leaves idle, and the rest is dropped and counted.
                sed -n 's/.*stopped; /          events: /p' "$work/err"
            fi
        done
        round_ratio="$(echo "(${round_rps[onget]} + ${round_rps[onpost]}) / (${round_rps[offget]} + ${round_rps[offpost]})" | bc -l)"
        round_ratios+=("$round_ratio")
        round_p99_ratios+=("$(echo "(${round_p99[onget]} + ${round_p99[onpost]}) / (${round_p99[offget]} + ${round_p99[offpost]})" | bc -l)")
        printf "          round %s on/off: get %.3f, post %.3f, both %.3f\n" "$round" \
            "$(echo "${round_rps[onget]} / ${round_rps[offget]}" | bc -l)" "$(echo "${round_rps[onpost]} / ${round_rps[offpost]}" | bc -l)" "$round_ratio"
    done

    echo
    printf "%-10s %12s %10s %10s %14s\n" "run" "req/s" "p50 ms" "p99 ms" "cpu us/req"
    total_off=0; total_on=0; p99_off=0; p99_on=0
    declare -A cpu_per_request
    for endpoint in get post; do
        for mode in off on; do
            rps="$(echo "${sum_rps[$mode$endpoint]} / $rounds" | bc -l)"
            p50="$(echo "${sum_p50[$mode$endpoint]} / $rounds" | bc -l)"
            p99="$(echo "${sum_p99[$mode$endpoint]} / $rounds" | bc -l)"
            cpu_per_request[$mode$endpoint]="$(echo "${sum_ticks[$mode$endpoint]} * 1000000 / $ticks_per_s / ${sum_requests[$mode$endpoint]}" | bc -l)"
            printf "%-10s %12.1f %10.3f %10.3f %14.2f\n" "$endpoint/$mode" "$rps" "$p50" "$p99" "${cpu_per_request[$mode$endpoint]}"
            if [ "$mode" = off ]; then total_off="$(echo "$total_off + $rps" | bc -l)"; p99_off="$(echo "$p99_off + $p99" | bc -l)"
            else total_on="$(echo "$total_on + $rps" | bc -l)"; p99_on="$(echo "$p99_on + $p99" | bc -l)"; fi
        done
    done
    printf "throughput ratio on/off: %.3f\n" "$(echo "$total_on / $total_off" | bc -l)"
    printf "p99 ratio on/off: %.3f\n" "$(echo "$p99_on / $p99_off" | bc -l)"
    # A round the host slowed pulls the means; the median round does not.
    median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    printf "median of the rounds' ratios: throughput %.3f, p99 %.3f\n" "$(median "${round_ratios[@]}")" "$(median "${round_p99_ratios[@]}")"
    # The demo's own CPU time per request, on against off: what the middleware
    # costs each request in CPU (request path and sender together).
    for endpoint in get post; do
        printf "cpu per request %s: %.2f us on, %.2f us off (%+.2f us)\n" "$endpoint" \
            "${cpu_per_request[on$endpoint]}" "${cpu_per_request[off$endpoint]}" \
            "$(echo "${cpu_per_request[on$endpoint]} - ${cpu_per_request[off$endpoint]}" | bc -l)"
    done
fi

if has exact; then
    echo
    echo "exact count at saturation: $exact_threads connections (one per wrk thread), ${duration}s of GET /orders/{id} then of POST /orders, events to a file"
    start_demo APIMETRICS_LOG_BODY=true APIMETRICS_FILE="$work/events.ndjson"
    wrk_total=0
    for endpoint in get post; do
        path=/orders/42; [ "$endpoint" = post ] && path=/orders
        # wrk's own stop comes a second after the threads' last possible one.
        served="$(EXACT_SECONDS="$duration" wrk -t"$exact_threads" -c"$exact_threads" -d"$((duration + 1))s" \
            -s "$work/exact-$endpoint.lua" "http://127.0.0.1:$port$path" | awk '/requests in/ { print $1 }')"
        wrk_total=$((wrk_total + served))
    done
    # The view's own request is recorded once its response is written, so the
    # total it reports is that of the wrk runs alone.
    api="$(curl -sf "http://127.0.0.1:$port/_apimetrics/api")"
    metrics_total="$(echo "$api" | jq '.requests')"
    stop_demo
    echo "$api" | jq -r '.pipeline | "  events: recorded \(.recorded), dropped \(.dropped) (\(.dropped_shed) shed, \(.dropped_queue_full) queue full), exported \(.exported)"'
    if [ "$metrics_total" = "$wrk_total" ]; then
        echo "requests: metrics $metrics_total, wrk $wrk_total: equal"
    else
        echo "requests: metrics $metrics_total, wrk $wrk_total: DIFFERENT"
        exact_failed=1
    fi
fi

if has rate; then
    echo
    declare -A bare_rps
    if has overhead; then
        for endpoint in get post; do bare_rps[$endpoint]="$(echo "${sum_rps[off$endpoint]} / $rounds" | bc -l)"; done
    else
        start_demo APIMETRICS_DISABLED=1
        read -r bare_rps[get] _ <<< "$(drive get.lua /orders/42 "$duration")"
        read -r bare_rps[post] _ <<< "$(drive post.lua /orders "$duration")"
        stop_demo
    fi
    # A collector that answers 200 to every batch without parsing it, so
    # that its own CPU takes little from the demo's two threads.
    python3 "$root/Tests/EndToEnd/collector.py" "$work/collector-port" /dev/null --discard &
    collector_pid=$!
    for _ in $(seq 1 50); do [ -s "$work/collector-port" ] && break; sleep 0.1; done
    collector_port="$(cat "$work/collector-port")"
    printf "fixed rate, %s%% of bare saturation (GET %.0f, POST %.0f req/s), %ss per run, off / file / http (a live collector) / dead (none listening), ABBA\n" \
        "$rate_share" "${bare_rps[get]}" "${bare_rps[post]}" "$rate_duration"
    declare -A rate_p50 rate_p99 rate_cpu
    for endpoint in get post; do
        path=/orders/42; [ "$endpoint" = post ] && path=/orders
        rate="$(echo "${bare_rps[$endpoint]} * $rate_share / 100" | bc -l)"
        for variant in off file http dead dead http file off; do
            case "$variant" in
                off) start_demo APIMETRICS_DISABLED=1 ;;
                file) start_demo APIMETRICS_LOG_BODY=true APIMETRICS_FILE="$work/events.ndjson" ;;
                http) start_demo APIMETRICS_LOG_BODY=true APIMETRICS_ENDPOINT="http://127.0.0.1:$collector_port/v1/events" ;;
                dead) start_demo APIMETRICS_LOG_BODY=true APIMETRICS_ENDPOINT="http://127.0.0.1:9/v1/events" APIMETRICS_SHUTDOWN_TIMEOUT_MS=1000 ;;
            esac
            read -r rps p50 p99 requests ticks <<< "$(RATE_PER_THREAD="$(echo "$rate / 2" | bc -l)" drive "paced-$endpoint.lua" "$path" "$rate_duration")"
            stop_demo
            cpu="$(echo "$ticks * 1000000 / $ticks_per_s / $requests" | bc -l)"
            rate_p50[$endpoint$variant]+="$p50 "; rate_p99[$endpoint$variant]+="$p99 "; rate_cpu[$endpoint$variant]+="$cpu "
            events=""
            if [ "$variant" != off ]; then
                stopped="$(sed -n 's/.*stopped; //p' "$work/err")"
                events="  events: $stopped"
                recorded="$(sed -n 's/.*recorded=\([0-9]*\).*/\1/p' <<< "$stopped")"
                dropped="$(sed -n 's/.* dropped=\([0-9]*\).*/\1/p' <<< "$stopped")"
                exported="$(sed -n 's/.* exported=\([0-9]*\).*/\1/p' <<< "$stopped")"
                if [ "$variant" != dead ] && { [ "$dropped" != 0 ] || [ "$exported" != "$recorded" ] || [ "$recorded" -lt "$requests" ]; }; then
                    events="$events  <- NOT EVERY EVENT EXPORTED"
                    rate_failed=1
                fi
            fi
            printf "  %-4s %-4s %9s req/s  p50 %6s ms  p99 %6s ms  cpu %6.1f us/req%s\n" "$endpoint" "$variant" "$rps" "$p50" "$p99" "$cpu" "$events"
        done
    done
    kill "$collector_pid" 2>/dev/null || true
    echo
    printf "%-10s %10s %10s %14s\n" "run" "p50 ms" "p99 ms" "cpu us/req"
    mean() { printf "%s\n" "$@" | awk '{ s += $1 } END { printf "%.3f", s / NR }'; }
    for endpoint in get post; do
        for variant in off file http dead; do
            # shellcheck disable=SC2086
            printf "%-10s %10.3f %10.3f %14.1f\n" "$endpoint/$variant" "$(mean ${rate_p50[$endpoint$variant]})" \
                "$(mean ${rate_p99[$endpoint$variant]})" "$(mean ${rate_cpu[$endpoint$variant]})"
        done
        # shellcheck disable=SC2086
        printf "%s with the collector unreachable against a live one: p50 x%.2f, p99 x%.2f\n" "$endpoint" \
            "$(echo "$(mean ${rate_p50[${endpoint}dead]}) / $(mean ${rate_p50[${endpoint}http]})" | bc -l)" \
            "$(echo "$(mean ${rate_p99[${endpoint}dead]}) / $(mean ${rate_p99[${endpoint}http]})" | bc -l)"
    done
fi

if has dead; then
    echo
    echo "collector unreachable: ${dead_duration}s of GET /orders/{id} with APIMETRICS_ENDPOINT on a closed port"
    start_demo APIMETRICS_ENDPOINT="http://127.0.0.1:9/v1/events" APIMETRICS_LOG_BODY=true APIMETRICS_QUEUE_BYTES="$queue_bytes" \
        APIMETRICS_QUEUE_SIZE=1000000 APIMETRICS_SHUTDOWN_TIMEOUT_MS=1000
    read -r rps p50 p99 _ _ <<< "$(drive get.lua /orders/42 "$dead_duration")"
    peak_kb="$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
    stop_demo
    peak_mb="$(echo "$peak_kb / 1024" | bc -l)"
    queue_mb="$(echo "$queue_bytes / 1048576" | bc -l)"
    printf "dead collector: %.1f req/s, p99 %.3f ms; peak RSS %.1f MB against %.0f MB of queue bytes (+20 MB budget: %s)\n" \
        "$rps" "$p99" "$peak_mb" "$queue_mb" "$( [ "$(echo "$peak_mb <= $queue_mb + 20" | bc -l)" = 1 ] && echo within || echo OVER )"
    # Requests/s must not drop while the collector is dead: against the GET
    # runs above with a live destination (the file) and with none (off).
    has overhead && printf "dead collector against the GET runs: %.3f of on, %.3f of off\n" \
        "$(echo "$rps * $rounds / ${sum_rps[onget]}" | bc -l)" "$(echo "$rps * $rounds / ${sum_rps[offget]}" | bc -l)"
    grep -h "stopped" "$work/err" | sed 's/^/  /' || true
fi
[ -z "${exact_failed:-}" ] || { echo "the metrics' total differs from wrk's"; exit 1; }
[ -z "${rate_failed:-}" ] || { echo "at the fixed rate, events were dropped or left unexported"; exit 1; }
