-- A fixed rate for wrk: each thread sends RATE_PER_THREAD requests a second
-- on a fixed schedule (clock_gettime through LuaJIT's ffi), so that a slow
-- response does not push the next request's slot back. Appended to a
-- script that sets the request (Benchmarks/loadtest.sh and
-- Examples/APIMetricsHummingbird/loadtest.sh).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } loadtest_timespec;
int clock_gettime(int clock, loadtest_timespec *ts);
]]
local ts = ffi.new("loadtest_timespec")
local function now_ms()
    ffi.C.clock_gettime(1, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval = 1000 / tonumber(os.getenv("RATE_PER_THREAD"))
local slot = nil
function delay()
    local now = now_ms()
    slot = (slot or now - interval) + interval
    return math.max(0, slot - now)
end
