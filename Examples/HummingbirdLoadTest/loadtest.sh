#!/usr/bin/env bash
# APIMetrics beside its peers in one Hummingbird 2 server: the example (this
# package links its sources and adds the peers) built
# in release, the same routes, one variant per run (--mode):
#   bare         no middleware
#   noop         a middleware that only passes each response body through
#   off          APIMetrics, bodies not captured, every event to a file
#   on           APIMetrics, bodies captured, every event to a file
#   store        APIMetrics, bodies not captured, every event to the local
#                SQLite store (the default destination)
#   discard      APIMetrics, bodies not captured, every event captured and
#                processed, then let go (no destination, and no event
#                encoded): the pipeline's own cost; the store's is its
#                difference from this, the file's that and its JSON lines
#   prometheus   Hummingbird's MetricsMiddleware, swift-metrics bootstrapped
#                to swift-prometheus
# (TracingMiddleware with swift-otel is left out: its build alone takes
# longer than this whole comparison.)
#
# Part 1, saturation: wrk -t2 -c32 on GET /orders/{id} and POST /orders, the
# variants in ABBA order (listed order in odd rounds, reversed in even ones,
# so that a host speeding up or slowing down favours none), each round's
# requests/s as a ratio to bare's in the same round, the medians of those
# ratios, p50/p99, and the server's CPU time (utime + stime from /proc) per
# request; APIMetrics' events recorded, dropped and exported.
# Part 2, fixed rate: a quarter and a half of bare's median saturation rate
# on GET, on a fixed schedule, for each variant but `on` (ABBA pairs): after
# a warm-up at the same rate (the server's first seconds set up its caches
# and its store file, which a server running for days has long done), CPU
# per request against bare's, and APIMetrics' drops (its pipeline figures
# count from the server's start: the warm-up's events with the run's).
#
# usage: bash Examples/HummingbirdLoadTest/loadtest.sh
#   LOADTEST_DURATION=5      seconds per wrk run at saturation
#   LOADTEST_ROUNDS=6        rounds of every variant (even: ABBA pairs)
#   LOADTEST_RATE_DURATION=10  seconds per fixed-rate run
#   LOADTEST_RATE_ROUNDS=2   fixed-rate runs of every variant at each rate (even, ABBA)
#   LOADTEST_WARMUP=5        seconds at the rate before each fixed-rate run
#   LOADTEST_VARIANTS="bare noop off on store prometheus" (discard is left
#                            out unless named)
#   LOADTEST_PARTS="saturation rate"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
duration="${LOADTEST_DURATION:-5}"
rounds="${LOADTEST_ROUNDS:-6}"
rate_duration="${LOADTEST_RATE_DURATION:-10}"
rate_rounds="${LOADTEST_RATE_ROUNDS:-2}"
warmup="${LOADTEST_WARMUP:-5}"
if ! [[ "$rate_rounds" =~ ^[0-9]+$ ]] || [ "$rate_rounds" -lt 2 ] || [ $((rate_rounds % 2)) != 0 ]; then
    echo "LOADTEST_RATE_ROUNDS must be an even number of runs, at least 2 (ABBA pairs), got '$rate_rounds'" >&2
    exit 2
fi
variants="${LOADTEST_VARIANTS:-bare noop off on store prometheus}"
parts="${LOADTEST_PARTS:-saturation rate}"
connections=32
has() { [[ " $parts " == *" $1 "* ]]; }

for tool in wrk jq curl bc; do
    if ! command -v "$tool" >/dev/null; then
        echo "installing $tool"
        apt-get update -qq >/dev/null && apt-get install -y -qq "$tool" >/dev/null
    fi
done
swift build -c release --product hummingbird-loadtest-server --package-path "$here" >/dev/null
bin="$(swift build -c release --package-path "$here" --show-bin-path)/hummingbird-loadtest-server"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/get.lua" <<'LUA'
wrk.headers["X-API-Key"] = "key-acme"
LUA
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"item":"lamp","quantity":2}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "key-acme"
LUA
# A fixed rate (Benchmarks/paced.lua): each wrk thread sends its share on
# a fixed schedule, so that a slow response does not push the next
# request's slot back.
cat "$work/get.lua" "$here/../../Benchmarks/paced.lua" > "$work/paced.lua"

start() {
    local variant="$1"
    rm -f "$work/events.ndjson" "$work"/store.sqlite*
    case "$variant" in
        off) set -- --mode apimetrics; env_vars=(APIMETRICS_LOG_BODY=false "APIMETRICS_FILE=$work/events.ndjson" APIMETRICS_STORE=off) ;;
        on) set -- --mode apimetrics; env_vars=(APIMETRICS_LOG_BODY=true "APIMETRICS_FILE=$work/events.ndjson" APIMETRICS_STORE=off) ;;
        store) set -- --mode apimetrics; env_vars=(APIMETRICS_LOG_BODY=false APIMETRICS_FILE=off "APIMETRICS_STORE=$work/store.sqlite") ;;
        discard) set -- --mode apimetrics; env_vars=(APIMETRICS_LOG_BODY=false "APIMETRICS_FILE=$work/events.ndjson" APIMETRICS_STORE=off APIMETRICS_LOADTEST_DISCARD=1) ;;
        *) set -- --mode "$variant"; env_vars=(APIMETRICS_DISABLED=1) ;;
    esac
    env "${env_vars[@]}" "$bin" --port 0 "$@" > "$work/out" 2> "$work/err" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$work/out" && break
        sleep 0.1
    done
    port="$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out")"
    [ -n "$port" ] || { echo "the example did not start: $(cat "$work/err")"; exit 1; }
}

# Sets $events to APIMetrics' pipeline figures ("" for the other
# variants), then stops the server (in this shell: it is its child).
stop() {
    local variant="$1"
    events=""
    if [ "$variant" = off ] || [ "$variant" = on ] || [ "$variant" = store ] || [ "$variant" = discard ]; then
        sleep 1  # the last flush interval: what the sender keeps up with
        events="$(curl -sf "http://127.0.0.1:$port/_apimetrics/api" | jq -r '.pipeline | "recorded \(.recorded) dropped \(.dropped) exported \(.exported)"')"
    fi
    kill -TERM "$pid"
    wait "$pid" || { echo "the example exited with $?: $(tail -3 "$work/err")"; exit 1; }
    pid=""
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
ticks_per_s="$(getconf CLK_TCK)"

# "requests_per_s p50_ms p99_ms requests cpu_us_per_request" for one wrk run.
drive() {
    local script="$1" path="$2" seconds="$3" before after
    before="$(cpu_ticks)"
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/$script" "http://127.0.0.1:$port$path" > "$work/wrk.txt"
    after="$(cpu_ticks)"
    awk -v ticks="$((after - before))" -v hz="$ticks_per_s" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec:/ { rps = $2 }
        /requests in/ { requests = $1 }
        /^ *50%/ { p50 = ms($2) }
        /^ *99%/ { p99 = ms($2) }
        END { printf "%.1f %.3f %.3f %d %.1f\n", rps, p50, p99, requests, ticks * 1000000 / hz / (requests > 0 ? requests : 1) }
    ' "$work/wrk.txt"
}

median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A rps_of ratios p50s p99s cpus
if has saturation; then
    echo "saturation: wrk -t2 -c$connections, ${duration}s per run, $rounds rounds, variants in ABBA order: $variants"
    for round in $(seq 1 "$rounds"); do
        order="$variants"
        [ $((round % 2)) = 0 ] && order="$(echo "$variants" | tr ' ' '\n' | tac | tr '\n' ' ')"
        for variant in $order; do
            start "$variant"
            for endpoint in get post; do
                path=/orders/42; [ "$endpoint" = post ] && path=/orders
                read -r rps p50 p99 _ cpu <<< "$(drive "$endpoint.lua" "$path" "$duration")"
                rps_of[$round$variant$endpoint]="$rps"
                p50s[$variant$endpoint]+="$p50 "; p99s[$variant$endpoint]+="$p99 "; cpus[$variant$endpoint]+="$cpu "
                printf "  round %s  %-10s %-4s %9s req/s  p50 %6s ms  p99 %6s ms  cpu %6s us/req\n" "$round" "$variant" "$endpoint" "$rps" "$p50" "$p99" "$cpu"
            done
            stop "$variant"
            if [ -n "$events" ]; then echo "             events: $events"; fi
        done
        for variant in $variants; do for endpoint in get post; do
            ratios[$variant$endpoint]+="$(echo "${rps_of[$round$variant$endpoint]} / ${rps_of[${round}bare$endpoint]}" | bc -l) "
        done; done
    done
    echo
    echo "medians over the rounds (ratio: requests/s over bare's in the same round)"
    printf "%-11s %10s %10s %9s %9s %13s %13s\n" variant "GET ratio" "POST ratio" "GET p99" "POST p99" "GET cpu us" "POST cpu us"
    for variant in $variants; do
        # shellcheck disable=SC2086
        printf "%-11s %10.3f %10.3f %9.3f %9.3f %13.1f %13.1f\n" "$variant" \
            "$(median ${ratios[${variant}get]})" "$(median ${ratios[${variant}post]})" \
            "$(median ${p99s[${variant}get]})" "$(median ${p99s[${variant}post]})" \
            "$(median ${cpus[${variant}get]})" "$(median ${cpus[${variant}post]})"
    done
    bare_rates=()
    for round in $(seq 1 "$rounds"); do bare_rates+=("${rps_of[${round}bareget]}"); done
    bare_max="$(median "${bare_rates[@]}")"
fi

if has rate; then
    bare_max="${bare_max:-${LOADTEST_BARE_RPS:?the rate part alone needs LOADTEST_BARE_RPS}}"
    rate_variants="bare"
    for variant in noop prometheus off store discard; do
        if [[ " $variants " == *" $variant "* ]]; then rate_variants+=" $variant"; fi
    done
    echo
    echo "fixed rate on GET /orders/{id}: a quarter and a half of bare's $bare_max req/s, ${warmup}s of warm-up then ${rate_duration}s measured per run, $rate_rounds runs of each variant"
    for share in 25 50; do
        rate="$(echo "$bare_max * $share / 100" | bc -l)"
        per_thread="$(echo "$rate / 2" | bc -l)"
        declare -A rate_cpu=()
        order=""
        for _ in $(seq 1 $((rate_rounds / 2))); do
            order+=" $rate_variants $(echo "$rate_variants" | tr ' ' '\n' | tac | tr '\n' ' ')"
        done
        for variant in $order; do
            start "$variant"
            if [ "$warmup" != 0 ]; then
                RATE_PER_THREAD="$per_thread" drive paced.lua /orders/42 "$warmup" > /dev/null
            fi
            read -r rps _ p99 _ cpu <<< "$(RATE_PER_THREAD="$per_thread" drive paced.lua /orders/42 "$rate_duration")"
            stop "$variant"
            rate_cpu[$variant]+="$cpu "
            printf "  %s%%  %-10s %9s req/s  p99 %6s ms  cpu %6s us/req  %s\n" "$share" "$variant" "$rps" "$p99" "$cpu" "$events"
        done
        # shellcheck disable=SC2086
        bare_cpu="$(median ${rate_cpu[bare]})"
        echo "  $share%: bare       cpu $bare_cpu us/req  (runs: $(echo ${rate_cpu[bare]}))"
        for variant in ${rate_variants#bare}; do
            # shellcheck disable=SC2086
            cpu="$(median ${rate_cpu[$variant]})"
            # shellcheck disable=SC2086
            printf "  %s%%: %-10s cpu %.1f us/req, bare %.1f: %+.1f us, x%.2f  (runs: %s)\n" "$share" "$variant" "$cpu" "$bare_cpu" \
                "$(echo "$cpu - $bare_cpu" | bc -l)" "$(echo "$cpu / $bare_cpu" | bc -l)" "$(echo ${rate_cpu[$variant]})"
        done
    done
fi
