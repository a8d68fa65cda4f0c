// examples/harness/command_line.hpp — the options every example takes, and its own extras.
//
//     --replicas N        N schedulers in this process, sharing the backend (default 1)
//     --simulate DUR      a virtual clock from --start: "30d" runs 30 days in seconds
//     --run DUR           real time: stop after DUR (default: run until Ctrl-C)
//     --redis HOST:PORT   Redis instead of the in-memory backend
//     --sentinel H:P,...  Redis through Sentinel (with --master NAME)
//     --redis-cluster H:P,...  Redis Cluster, known by some of its nodes
//     --postgres URL      PostgreSQL (libpq's URL): the backend, and the example's store
//     --audit FILE        one JSON line per execution, appended
//     --check FILE...     check merged audit files of earlier runs, print the summary, exit
//
// Every value is checked and bounded here, without exceptions: a bad one is an error that
// names the option, what it expected and what it got.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sked/duration.hpp>
#include <sked/job.hpp>
#include <sked/result.hpp>
#include <sked/rfc3339.hpp>

namespace example {

using std::chrono::milliseconds;

/// A full outage of every replica: all are stopped `at` into the run, for `length`.
struct outage {
    milliseconds at{0}, length{0};
};

struct options {
    std::size_t replicas = 1;
    std::optional<milliseconds> simulate{};
    std::optional<milliseconds> run_for{};
    std::chrono::sys_seconds start{std::chrono::sys_days{std::chrono::year{2026} / 11 / 1}};
    std::optional<std::string> redis_host{};
    int redis_port = 0;
    std::vector<std::pair<std::string, int>> sentinels{};  ///< --sentinel: Redis through these
    std::string master{};  ///< --master: the name the sentinels know the master by
    std::vector<std::pair<std::string, int>> cluster{};  ///< --redis-cluster: some of its nodes
    int wait_replicas = 0;  ///< --wait-replicas: WAIT for this many replicas after each write
    std::string prefix{};  ///< Redis key prefix, or PostgreSQL schema; empty: chosen by the example
    std::optional<std::string> postgres_url{};  ///< --postgres: the backend and the store in PostgreSQL
    std::string name = "replica";  ///< replicas are "<name>-1" .. "<name>-N"
    std::optional<std::string> audit{};
    std::optional<std::string> log{};  ///< default: standard error
    bool quiet = false;
    std::optional<std::chrono::seconds> tick{};  ///< run every `tick` instead of the real schedule
    std::optional<milliseconds> lease{};
    std::optional<sked::misfire> on_misfire{};  ///< overrides the job's policy
    std::optional<sked::overlap> on_overlap{};
    std::string redis_user{}, redis_password{};
    std::optional<std::string> http_host{};  ///< --http: replica i serves on http_port + i - 1
    int http_port = 0;
    std::string http_token{};  ///< --http-token: enables pause/resume/run over HTTP
    std::vector<outage> outages{};
    std::vector<std::string> check{};
    std::map<std::string, std::string, std::less<>> extra{};  ///< the example's own options, by flag

    /// Redis, one server (--redis), through Sentinel (--sentinel) or a Cluster
    /// (--redis-cluster), rather than memory.
    [[nodiscard]] bool uses_redis() const { return redis_host.has_value() || !sentinels.empty() || !cluster.empty(); }
    /// PostgreSQL (--postgres): the backend, and the stores of the examples that have one there.
    [[nodiscard]] bool uses_postgres() const { return postgres_url.has_value(); }
    /// A backend other processes may share (--prefix names what they share).
    [[nodiscard]] bool uses_server() const { return uses_redis() || uses_postgres(); }

    [[nodiscard]] std::string extra_or(std::string_view flag, std::string fallback) const {
        const auto found = extra.find(flag);
        return found == extra.end() ? std::move(fallback) : found->second;
    }
    /// The example's own whole-number option, from `low` to `high`; the error says so.
    [[nodiscard]] sked::result<std::uint64_t, std::string> extra_number(std::string_view flag, std::uint64_t fallback,
                                                                        std::uint64_t low, std::uint64_t high) const {
        const auto found = extra.find(flag);
        if (found == extra.end()) return fallback;
        const auto& text = found->second;
        std::uint64_t n = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (error != std::errc{} || end != text.data() + text.size() || n < low || n > high)
            return std::string(flag) + ": expected a whole number from " + std::to_string(low) + " to " +
                   std::to_string(high) + ", got '" + text + "'";
        return n;
    }
    /// The example's own duration option, above zero and at most `longest`.
    [[nodiscard]] sked::result<milliseconds, std::string> extra_duration(std::string_view flag,
                                                                         std::string_view fallback,
                                                                         milliseconds longest) const {
        const auto found = extra.find(flag);
        const std::string_view text = found == extra.end() ? fallback : std::string_view(found->second);
        const auto d = sked::parse_duration(text);
        if (!d || *d < milliseconds{0} || *d > longest)
            return std::string(flag) + ": expected a duration from 0s to " + sked::format_duration(longest) +
                   " such as 1s, got '" + std::string(text) + "'";
        return *d;
    }
};

/// The longest --simulate (ten years of virtual time) and --run (a year of real time).
inline constexpr milliseconds longest_simulation = std::chrono::days{3653};
inline constexpr milliseconds longest_run = std::chrono::days{366};

/// An option only one example takes, e.g. {"--tz", "ZONE", "the players' zone (Asia/Manila)"}.
struct extra_option {
    std::string flag, value, help;
};

inline std::string usage(std::string_view program, const std::vector<extra_option>& extras) {
    std::ostringstream out;
    out << "usage: " << program << " [options]\n"
        << "  --replicas N        N schedulers in this process sharing one backend (1)\n"
        << "  --simulate DUR      virtual time from --start, e.g. 30d (runs in seconds)\n"
        << "  --start TIME        where a simulation starts (2026-11-01T00:00:00Z)\n"
        << "  --run DUR           real time: stop after DUR (default: until Ctrl-C)\n"
        << "  --outage AT+DUR     stop every replica AT into the run for DUR (e.g. 9d15h+2h)\n"
        << "  --redis HOST:PORT   use Redis instead of the in-memory backend\n"
        << "  --prefix P          Redis key prefix, or PostgreSQL schema (processes that share it share the jobs)\n"
        << "  --postgres URL      real time: PostgreSQL (a libpq URL) for the backend and the example's store\n"
        << "  --name NAME         replicas are NAME-1 .. NAME-N (replica)\n"
        << "  --tick DUR          run every DUR instead of the job's real schedule\n"
        << "  --lease DUR         lease time-to-live (30s)\n"
        << "  --misfire POLICY    skip, run_once or run_each: overrides the job's misfire policy\n"
        << "  --overlap POLICY    skip, queue_one, allow or cancel_running: overrides its overlap policy\n"
        << "  --sentinel H:P,...  Redis through these sentinels (with --master), instead of --redis\n"
        << "  --master NAME       the master's name the sentinels know\n"
        << "  --redis-cluster H:P,...  Redis Cluster, known by some of its nodes, instead of --redis\n"
        << "  --wait-replicas N   after each write, wait until N replicas have it (WAIT)\n"
        << "  --redis-user U      Redis ACL user (with --redis-password)\n"
        << "  --redis-password P  Redis AUTH password\n"
        << "  --http ADDR:PORT    real time: serve /health, /metrics, /scheduler (replica i on PORT+i-1)\n"
        << "  --http-token T      the bearer token for POST "
           "/scheduler/jobs/NAME/pause|resume|run|stagger-off|stagger-on\n"
        << "  --audit FILE        append one JSON line per execution\n"
        << "  --log FILE          job start/finish/skip lines (standard error)\n"
        << "  --quiet             no job lines, only the summary\n"
        << "  --check FILE...     check merged audit files, print the summary, and exit\n";
    for (const auto& e : extras) {
        std::string left = e.flag + " " + e.value;
        left.resize(std::max<std::size_t>(left.size(), 18), ' ');
        out << "  " << left << "  " << e.help << "\n";
    }
    return out.str();
}

/// --misfire or --overlap: what was wrong with `value`, or nothing.
inline std::optional<std::string> set_policy(options& o, std::string_view flag, std::string_view value) {
    if (flag == "--misfire") {
        if (value == "skip")
            o.on_misfire = sked::misfire::skip;
        else if (value == "run_once")
            o.on_misfire = sked::misfire::run_once;
        else if (value == "run_each")
            o.on_misfire = sked::misfire::run_each;
        else
            return "expected skip, run_once or run_each, got '" + std::string(value) + "'";
        return std::nullopt;
    }
    if (value == "skip")
        o.on_overlap = sked::overlap::skip;
    else if (value == "queue_one")
        o.on_overlap = sked::overlap::queue_one;
    else if (value == "allow")
        o.on_overlap = sked::overlap::allow;
    else if (value == "cancel_running")
        o.on_overlap = sked::overlap::cancel_running;
    else
        return "expected skip, queue_one, allow or cancel_running, got '" + std::string(value) + "'";
    return std::nullopt;
}

/// "HOST:PORT" as a host and a port, or nothing.
inline std::optional<std::pair<std::string, int>> host_port(std::string_view value) {
    const auto colon = value.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const auto digits = std::string(value.substr(colon + 1));
    const int port = std::atoi(digits.c_str());
    if (port <= 0 || port > 65535 || std::to_string(port) != digits) return std::nullopt;
    return std::pair{std::string(value.substr(0, colon)), port};
}

/// "HOST:PORT[,HOST:PORT...]" as hosts and ports, or nothing.
inline std::optional<std::vector<std::pair<std::string, int>>> host_ports(std::string_view value) {
    std::vector<std::pair<std::string, int>> out;
    for (std::size_t begin = 0; begin <= value.size();) {
        const auto end = std::min(value.find(',', begin), value.size());
        const auto server = host_port(value.substr(begin, end - begin));
        if (!server) return std::nullopt;
        out.push_back(*server);
        begin = end + 1;
    }
    return out;
}

/// --redis, --sentinel, --redis-cluster, --master, --wait-replicas: what was wrong with
/// `value`, or nothing.
inline std::optional<std::string> set_redis(options& o, std::string_view flag, std::string_view value) {
    if (flag == "--redis") {
        const auto server = host_port(value);
        if (!server) return "expected HOST:PORT such as 127.0.0.1:6379, got '" + std::string(value) + "'";
        o.redis_host = server->first;
        o.redis_port = server->second;
    } else if (flag == "--sentinel" || flag == "--redis-cluster") {
        auto servers = host_ports(value);
        if (!servers)
            return "expected HOST:PORT[,HOST:PORT...] such as 127.0.0.1:" +
                   std::string(flag == "--sentinel" ? "26379" : "7000") + ", got '" + std::string(value) + "'";
        (flag == "--sentinel" ? o.sentinels : o.cluster) = *std::move(servers);
    } else if (flag == "--master") {
        if (value.empty()) return std::string("expected the master's name, such as mymaster");
        o.master = value;
    } else {
        const int n = std::atoi(std::string(value).c_str());
        if (n < 0 || n > 16 || std::to_string(n) != value)
            return "expected a number from 0 to 16, got '" + std::string(value) + "'";
        o.wait_replicas = n;
    }
    return std::nullopt;
}

/// The options that need another: what is missing, or nothing.
inline std::optional<std::string> redis_problem(const options& o) {
    if ((o.redis_host ? 1 : 0) + (o.sentinels.empty() ? 0 : 1) + (o.cluster.empty() ? 0 : 1) > 1)
        return std::string("--redis, --sentinel and --redis-cluster: choose one");
    if (!o.sentinels.empty() && o.master.empty()) return std::string("--sentinel: also give --master NAME");
    if (o.sentinels.empty() && !o.master.empty()) return std::string("--master: only with --sentinel");
    if (o.wait_replicas > 0 && !o.uses_redis())
        return std::string("--wait-replicas: only with --redis, --sentinel or --redis-cluster");
    return std::nullopt;
}

/// Parses the command line. The error names the option and what was wrong with it.
inline sked::result<options, std::string> parse_command_line(int argc, char** argv,
                                                             const std::vector<extra_option>& extras) {
    options o;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto fail = [](std::string_view flag, std::string_view why) { return std::string(flag) + ": " + std::string(why); };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (flag == "--check") {
            while (i + 1 < args.size() && !args[i + 1].starts_with("--"))
                o.check.emplace_back(args[++i]);
            if (o.check.empty()) return fail(flag, "expected at least one audit file");
            continue;
        }
        if (i + 1 == args.size()) return fail(flag, "expected a value after it (or unknown option; see --help)");
        const std::string_view value = args[++i];
        auto duration = [&]() -> std::optional<milliseconds> {
            auto d = sked::parse_duration(value);
            if (!d || *d <= milliseconds{0}) return std::nullopt;
            return *d;
        };
        if (flag == "--replicas") {
            const int n = std::atoi(std::string(value).c_str());
            if (n < 1 || n > 64 || std::to_string(n) != value)
                return fail(flag, "expected a number from 1 to 64, got '" + std::string(value) + "'");
            o.replicas = static_cast<std::size_t>(n);
        } else if (flag == "--simulate" || flag == "--run" || flag == "--tick" || flag == "--lease") {
            const auto d = duration();
            if (!d)
                return fail(flag, "expected a duration such as 30d, 90s or 1h30m, got '" + std::string(value) + "'");
            const milliseconds longest = flag == "--simulate" ? longest_simulation
                                         : flag == "--run"    ? longest_run
                                         : flag == "--tick"   ? milliseconds{std::chrono::days{7}}
                                                              : milliseconds{std::chrono::days{30}};
            if (*d > longest)
                return fail(flag, "at most " + sked::format_duration(longest) + ", got '" + std::string(value) + "'");
            if (flag == "--tick")
                o.tick = std::chrono::ceil<std::chrono::seconds>(*d);  // schedules count whole seconds
            else
                (flag == "--simulate" ? o.simulate : flag == "--run" ? o.run_for : o.lease) = d;
        } else if (flag == "--start") {
            const auto t = sked::parse_rfc3339(value);
            if (!t || *t != std::chrono::floor<std::chrono::seconds>(*t))
                return fail(flag, "expected a UTC time such as 2026-11-01T00:00:00Z, got '" + std::string(value) + "'");
            o.start = std::chrono::floor<std::chrono::seconds>(*t);
        } else if (flag == "--outage") {
            const auto plus = value.find('+');
            const auto at = sked::parse_duration(value.substr(0, plus));
            const auto length = sked::parse_duration(plus == std::string_view::npos ? "" : value.substr(plus + 1));
            if (plus == std::string_view::npos || !at || !length || *length <= milliseconds{0})
                return fail(flag, "expected AT+DURATION such as 9d15h+2h, got '" + std::string(value) + "'");
            o.outages.push_back({*at, *length});
        } else if (flag == "--redis" || flag == "--sentinel" || flag == "--redis-cluster" || flag == "--master" ||
                   flag == "--wait-replicas") {
            if (auto bad = set_redis(o, flag, value)) return fail(flag, *bad);
        } else if (flag == "--http") {
            const auto colon = value.rfind(':');
            const auto port_text =
                colon == std::string_view::npos ? std::string{} : std::string(value.substr(colon + 1));
            const int port = port_text.empty() ? -1 : std::atoi(port_text.c_str());
            if (colon == 0 || colon == std::string_view::npos || port < 0 || port > 65535 ||
                port_text.find_first_not_of("0123456789") != std::string::npos)
                return fail(flag, "expected ADDR:PORT such as 127.0.0.1:3000, got '" + std::string(value) + "'");
            o.http_host = std::string(value.substr(0, colon));
            o.http_port = port;
        } else if (flag == "--http-token") {
            o.http_token = value;
        } else if (flag == "--misfire" || flag == "--overlap") {
            if (auto bad = set_policy(o, flag, value)) return fail(flag, *bad);
        } else if (flag == "--postgres") {
            if (!value.starts_with("postgres://") && !value.starts_with("postgresql://") &&
                value.find('=') == std::string_view::npos)
                return fail(flag, "expected a libpq URL such as postgresql://user@127.0.0.1:5432/app, got '" +
                                      std::string(value) + "'");
            o.postgres_url = std::string(value);
        } else if (flag == "--redis-user") {
            o.redis_user = value;
        } else if (flag == "--redis-password") {
            o.redis_password = value;
        } else if (flag == "--prefix") {
            o.prefix = value;
        } else if (flag == "--name") {
            o.name = value;
        } else if (flag == "--audit") {
            o.audit = std::string(value);
        } else if (flag == "--log") {
            o.log = std::string(value);
        } else {
            bool known = false;
            for (const auto& e : extras)
                if (e.flag == flag) known = true, o.extra[e.flag] = std::string(value);
            if (!known) return fail(flag, "unknown option (see --help)");
        }
    }
    if (auto bad = redis_problem(o)) return *bad;
    if (o.uses_postgres() && o.uses_redis()) return std::string("--postgres and Redis: choose one backend");
    if (o.uses_postgres() && o.simulate)
        return std::string("--postgres: only in real time (--run): the server times its leases on its own clock");
    if (o.simulate && o.run_for) return std::string("--simulate and --run: choose one (virtual or real time)");
    if (!o.simulate && !o.outages.empty()) return std::string("--outage: only with --simulate");
    if (o.simulate && o.http_host) return std::string("--http: only in real time (--run, or until Ctrl-C)");
    if (!o.http_token.empty() && !o.http_host) return std::string("--http-token: only with --http");
    for (const auto& cut : o.outages)
        if (cut.at + cut.length > *o.simulate) return std::string("--outage: it ends after the --simulate period");
    return o;
}

}  // namespace example
