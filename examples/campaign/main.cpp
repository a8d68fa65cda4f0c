// examples/campaign — a campaign engine: "expire node 42 in 48 h, within business hours".
//
//     campaign --replicas 3 --simulate 14d --outage 6d+8h
//
// The service's API creates a timeout for a campaign node on whichever replica served the
// request; the timeout is a durable one-off job, kept in the backend, so it fires once,
// on some replica, also when the replica that created it has been redeployed. When it
// fires, the engine calls the campaign service, which refuses a share of the calls; a
// refused call is retried with exponential back-off and jitter, 5 attempts, by any
// replica. Timeouts and their retries fire only in business hours (Mon-Fri 09:00-18:00
// Asia/Manila): one due outside them waits for the next opening.
// What each replica does is serve() below; examples/harness runs it on N replicas.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <sked/date_zone.hpp>
#include <sked/json.hpp>
#include <sked/log_hook.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>

#include "../harness/program.hpp"
#include "campaign_service.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr std::string_view about =
    "campaign: the API creates campaign-node timeouts on random replicas; each fires once, in\n"
    "business hours, and a refused call to the campaign service is retried with back-off.";

constexpr std::uint32_t attempts = 5;

/// How each replica runs the timeouts: 5 attempts, exponential back-off with jitter, only
/// inside `hours` (when set), a lease of `lease`.
sked::one_off_options timeout_options(std::optional<sked::calendar> hours, milliseconds first_retry,
                                      milliseconds lease) {
    return {.lease_ttl = lease,
            .retry = {.max_attempts = attempts, .initial_delay = first_retry, .multiplier = 2.0, .jitter = 0.2},
            .calendar = std::move(hours)};
}

/// The longest a timeout's retries can take after its first attempt.
milliseconds retry_budget(const sked::one_off_options& o) {
    milliseconds total{0}, delay = o.retry.initial_delay;
    for (std::uint32_t a = 1; a < o.retry.max_attempts; ++a, delay *= 2)
        total += std::min(delay, o.retry.max_delay) * 12 / 10;
    return total;
}

/// One line per timeout created: {"key":..,"due":..,"replica":..}.
struct created_line {
    std::string key;
    std::chrono::sys_seconds due;
    std::string replica;
};

std::string to_json(const created_line& c) {
    std::string line = "{\"key\":";
    sked::append_json_quoted(line, c.key);
    line.append(",\"due\":\"").append(sked::rfc3339(c.due)).append("\",\"replica\":");
    sked::append_json_quoted(line, c.replica);
    return line.append("}");
}

std::vector<created_line> read_created(const std::string& file) {
    std::vector<created_line> out;
    std::FILE* in = std::fopen(file.c_str(), "r");
    if (in == nullptr) return out;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, in) != nullptr) {
        const std::string_view line{buffer};
        const auto key = example::detail::field(line, "key"), due = example::detail::field(line, "due"),
                   replica = example::detail::field(line, "replica");
        if (!key || !due || !replica) continue;
        const auto at = sked::parse_rfc3339(*due);
        if (at) out.push_back({*key, std::chrono::floor<std::chrono::seconds>(*at), *replica});
    }
    std::fclose(in);
    return out;
}

/// What happened to the timeouts, from the created lines and the audit alone.
struct tally {
    std::size_t created = 0, fired_once = 0, retried = 0, failed_for_good = 0, duplicates = 0, lost = 0,
                outside_hours = 0, pending = 0, unknown = 0;
    [[nodiscard]] bool ok() const { return duplicates == 0 && lost == 0 && outside_hours == 0 && unknown == 0; }
};

/// `end`: when the run stopped; a timeout is lost if it should have finished `settle`
/// before that and did not.
tally count(const std::vector<created_line>& created, const std::vector<example::execution>& audit,
            const std::optional<sked::calendar>& hours, sked::instant end, milliseconds settle) {
    struct per_key {
        std::size_t ok = 0, failed = 0;
    };
    std::map<std::string, per_key> seen;
    tally t;
    for (const auto& e : audit) {
        if (e.key.empty()) continue;  // not a timeout
        auto& k = seen[e.key];
        (e.outcome == "ok" ? k.ok : k.failed) += 1;
        // A run the shutdown stopped before it called the service did nothing.
        if (hours && !hours->allows(std::chrono::floor<std::chrono::seconds>(e.started))) ++t.outside_hours;
    }
    std::set<std::string> known;
    for (const auto& c : created) {
        if (!known.insert(c.key).second) continue;
        ++t.created;
        const auto& k = seen[c.key];
        if (k.ok == 1) ++t.fired_once;
        if (k.ok > 1) ++t.duplicates;
        if (k.failed > 0) ++t.retried;
        if (k.ok > 0) continue;
        if (k.failed >= attempts) {
            ++t.failed_for_good;
            continue;
        }
        const auto run_at = hours ? hours->next_allowed(c.due).value_or(c.due) : c.due;
        if (sked::instant{run_at} + settle < end) {
            ++t.lost;
        } else {
            ++t.pending;
        }
    }
    for (const auto& [key, k] : seen)
        if (!known.contains(key)) ++t.unknown;
    return t;
}

void print(const tally& t, bool hours) {
    std::printf(
        "timeouts: %zu created, %zu fired once, %zu retried, %zu failed for good, %zu duplicates, %zu lost, %zu "
        "fired outside %s, %zu still pending at the end\n",
        t.created, t.fired_once, t.retried, t.failed_for_good, t.duplicates, t.lost, t.outside_hours,
        hours ? "business hours" : "their hours", t.pending);
    if (t.unknown > 0) std::printf("timeouts: %zu fired that nobody created\n", t.unknown);
}

std::optional<double> parse_rate(const std::string& text) {
    double p = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), p);
    if (error != std::errc{} || end != text.data() + text.size() || p < 0 || p > 1) return std::nullopt;
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    const auto o = example::parse_or_exit(
        argc, argv, about,
        {{"--create", "N", "API requests, each creating one node's timeout (500)"},
         {"--due-within", "DUR", "each timeout is due within DUR of its request (48h; real time 10s)"},
         {"--hours", "WHEN", "business (Mon-Fri 09:00-18:00 Asia/Manila) or always (business)"},
         {"--fail-rate", "P", "the share of calls the campaign service refuses (0.2)"},
         {"--created", "FILE", "append one JSON line per timeout created (with --check: read it)"},
         {"--work", "DUR", "how long a call to the campaign service takes (200ms)"}});
    const auto n = example::or_exit(o.extra_number("--create", 500, 1, 1'000'000));
    const auto due_within =
        example::or_exit(o.extra_duration("--due-within", o.simulate ? "48h" : "10s", std::chrono::hours{24 * 365}));
    const auto work = example::or_exit(o.extra_duration("--work", "200ms", std::chrono::hours{1}));
    const auto when = o.extra_or("--hours", "business");
    const auto fail_rate = parse_rate(o.extra_or("--fail-rate", "0.2"));
    if (when != "business" && when != "always") {
        std::fprintf(stderr, "--hours: expected business or always, got '%s'\n", when.c_str());
        return 2;
    }
    if (!fail_rate) {
        std::fprintf(stderr, "--fail-rate: expected a number from 0 to 1, got '%s'\n",
                     o.extra_or("--fail-rate", "").c_str());
        return 2;
    }
    const auto manila = sked::date_zone::locate("Asia/Manila");
    if (!manila) {
        std::fprintf(stderr, "Asia/Manila: no such zone in this system's time zone database\n");
        return 2;
    }
    std::optional<sked::calendar> hours;
    if (when == "business") hours = sked::calendar::business_hours(*manila, 9h, 18h);
    const auto options = timeout_options(hours, o.simulate ? milliseconds{2s} : milliseconds{250ms},
                                         o.lease.value_or(milliseconds{30s}));
    // Done by then, or lost: its opening, its retries, a dead taker's lease, and a poll.
    const auto settle = retry_budget(options) + 2 * options.lease_ttl + (o.simulate ? 1h : 5s) + work * attempts;
    const auto created_file = o.extra_or("--created", "");

    if (!o.check.empty()) {  // the merged audits of earlier runs, against what they created
        if (created_file.empty()) {
            std::fprintf(stderr, "--check: give the --created file of those runs too\n");
            return 2;
        }
        auto audit = example::read_audit(o.check);
        if (!audit) {
            std::fprintf(stderr, "--check: %s\n", audit.error().c_str());
            return 2;
        }
        sked::instant last{};
        for (const auto& e : *audit)
            last = std::max(last, e.finished);
        const auto t = count(read_created(created_file), *audit, hours, last, settle);
        print(t, hours.has_value());
        return t.ok() ? 0 : 1;
    }

    const auto horizon = o.simulate.value_or(o.run_for.value_or(std::chrono::hours{24}));
    const sked::instant start = o.simulate ? sked::instant{o.start} : sked::system_now();
    // Requests stop early enough that their timeouts can come due (after a weekend) and settle.
    const auto quiet_tail = due_within + retry_budget(options) + (o.simulate ? milliseconds{1h} : milliseconds{3s}) +
                            (hours ? std::chrono::hours{24 * 3} : milliseconds{0});
    if (quiet_tail >= horizon) {
        std::fprintf(stderr, "--due-within: %s leaves no time to create anything in a run of %s\n",
                     sked::format_duration(due_within).c_str(), sked::format_duration(horizon).c_str());
        return 2;
    }
    const auto requests = campaign::plan(n, start, start + (horizon - quiet_tail), due_within, o.replicas);

    int created_fd = -1;
    if (!created_file.empty()) {
        created_fd = ::open(created_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (created_fd < 0) {
            std::fprintf(stderr, "--created %s: cannot open\n", created_file.c_str());
            return 2;
        }
    }
    std::mutex created_mutex;
    std::vector<created_line> created;
    campaign::service service{*fail_rate};
    auto fleet = example::open_or_exit(o);

    // The timeout fired: expire the node at the campaign service.
    const auto expire = [&](const sked::one_off_context& c) {
        if (!fleet->spend(c, work)) throw std::runtime_error("stopped before the campaign service answered");
        if (service.fails(c.key, c.attempt)) throw std::runtime_error("campaign service answered 503");
        if (!service.expire(std::string(c.key), c.fence))
            return example::outcome{"fenced", "a call with a newer fencing token expired it"};
        return example::outcome{"ok", "node expired"};
    };

    // The API: the requests this replica serves, as they arrive (a local job every tick).
    const milliseconds api_tick = o.simulate ? milliseconds{1min} : milliseconds{1s};
    const auto api = [&](sked::scheduler& s, const std::string& replica, std::size_t index) {
        return [&, replica, index](const sked::job_context& c) {
            const sked::instant to{c.nominal}, from = to - api_tick;
            // The plan is in order of arrival: the tick's requests are one run of it.
            const auto first = std::partition_point(requests.begin(), requests.end(),
                                                    [&](const campaign::request& r) { return r.arrives <= from; });
            for (auto r = first; r != requests.end() && r->arrives <= to; ++r) {
                if (r->replica != index) continue;
                auto made = s.create({.kind = "expire_node", .key = r->key, .due = r->due, .calendar = hours});
                if (!made || *made != sked::create_status::created) continue;  // a failed request: the client retries
                const created_line line{r->key, r->due, replica};
                const auto text = to_json(line) + "\n";
                std::lock_guard hold{created_mutex};
                created.push_back(line);
                if (created_fd >= 0 && ::write(created_fd, text.data(), text.size()) < 0) std::perror("--created");
            }
        };
    };
    const sked::job_spec api_job{.name = "campaign_api",
                                 .schedule = sked::schedule::every(std::chrono::ceil<std::chrono::seconds>(api_tick)),
                                 .run = {},
                                 .options = {.mode = sked::distribution::local, .on_misfire = sked::misfire::skip}};

    // One replica of the service, as it would run in a process of its own.
    const auto serve = [&](example::replica& replica) {
        sked::scheduler scheduler{{.clock = replica.clock(),  // empty: the system clocks
                                   .steady = replica.steady(),
                                   .backend = replica.backend(),  // sked::redis::keys, or sked::memory_keys
                                   .replica = replica.name(),
                                   .executor = replica.executor(),
                                   .hooks = replica.hooks(),
                                   // A replica takes what it creates when due; others look every 30 s
                                   // in virtual time (a poll is cheap to skip), every second in real
                                   // time, or once a minute when PostgreSQL tells them (below).
                                   .one_off_poll_every = replica.simulated()           ? milliseconds{30s}
                                                         : replica.hears_of_one_offs() ? milliseconds{60s}
                                                                                       : milliseconds{1s}}};
        // Every replica handles the timeouts, whoever created them. In virtual time a call
        // holds one of the harness's few threads while it sleeps: one at a time per replica.
        auto mine = options;
        if (replica.simulated()) mine.max_running = 1;
        if (auto on = scheduler.on("expire_node", replica.audited(expire), mine); !on)
            return replica.refused(on.error().message);
        auto spec = api_job;
        spec.run = api(scheduler, replica.name(), replica.index());
        if (auto added = scheduler.add(std::move(spec)); !added) return replica.refused(added.error().message);
        if (replica.simulated()) return replica.simulate(scheduler);
        sked::runner runner{scheduler};
        const auto news = replica.listen(scheduler);  // --postgres: LISTEN for one-offs others create
        const auto web = replica.serve_http(scheduler);  // --http: /health, /metrics, /scheduler
        replica.wait_for_shutdown();
        replica.report(runner.stop(5s));
    };

    if (auto refused = fleet->run(api_job, serve)) {
        std::fprintf(stderr, "%s\n", refused->c_str());
        return 2;
    }
    if (created_fd >= 0) ::close(created_fd);
    std::printf("campaign: %zu replicas, %zu requests; %s\n", o.replicas, requests.size(),
                hours ? "business hours Mon-Fri 09:00-18:00 Asia/Manila" : "any hour");
    if (!fleet->sees_every_replica()) {
        std::printf(
            "timeouts: %zu created here; other processes share --prefix: check their merged audits with "
            "--check and --created\n",
            created.size());
        return 0;
    }
    const auto t = count(created, fleet->audit_lines(), hours, fleet->now(), settle);
    print(t, hours.has_value());
    return t.ok() ? 0 : 1;
}
