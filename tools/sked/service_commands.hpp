// sked status, pause, resume, run, stagger-off, stagger-on: the tool as a client of a
// running service's endpoints (sked::http, docs/http.md), for the person on call.
//     sked status URL[,URL...] [--json] [--watch [SECONDS]]
//     sked pause|resume|run URL[,URL...] JOB [--token T]
//     sked stagger-off|stagger-on URL[,URL...] [JOB] [--token T]
// Each URL is one replica (http://HOST:PORT, maybe with a path prefix). The token is
// --token or the variable SKED_TOKEN (which keeps it out of the process list). Exit
// status: status 0 healthy, 1 unhealthy, 2 unreachable or not a sked service; the control
// commands 0 done, 1 refused (token, no such job), 2 unreachable. Bad usage is 2.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <sked/date_zone.hpp>
#include <sked/log_hook.hpp>
#include <sked/rfc3339.hpp>
#include <sked/schedule_words.hpp>

#include "service_url.hpp"

namespace sked::tool {

struct service_arguments {
    std::string command;
    std::vector<std::string> urls;
    std::string job;
    std::string token;
    bool json = false;
    std::optional<int> watch_seconds;
};

inline std::vector<std::string> split_urls(std::string_view list) {
    std::vector<std::string> out;
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (comma != 0) out.emplace_back(list.substr(0, comma));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

inline std::optional<service_arguments> read_service_arguments(int argc, char** argv, std::string& problem) {
    service_arguments args;
    args.command = argv[1];
    if (const char* token = std::getenv("SKED_TOKEN")) args.token = token;
    std::vector<std::string> positional;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--json") {
            args.json = true;
        } else if (arg == "--token") {
            if (i + 1 >= argc) return problem = "--token needs a value", std::nullopt;
            args.token = argv[++i];
        } else if (arg == "--watch") {
            args.watch_seconds = 2;
            if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9') {
                char* end = nullptr;
                const long seconds = std::strtol(argv[++i], &end, 10);
                if (*end != '\0' || seconds < 1 || seconds > 3600)
                    return problem = "--watch takes seconds from 1 to 3600", std::nullopt;
                args.watch_seconds = static_cast<int>(seconds);
            }
        } else if (arg.starts_with("--")) {
            return problem = "unknown option " + std::string(arg), std::nullopt;
        } else {
            positional.emplace_back(arg);
        }
    }
    const bool status = args.command == "status";
    const bool job_optional = args.command.starts_with("stagger");
    const std::size_t most = status ? 1 : 2;
    const std::size_t least = status || job_optional ? 1 : 2;
    if (positional.size() < least || positional.size() > most)
        return problem = args.command + (status         ? " takes one URL"
                                         : job_optional ? " takes a URL and maybe a JOB"
                                                        : " takes a URL and a JOB"),
               std::nullopt;
    if (!status && (args.json || args.watch_seconds))
        return problem = "--json and --watch are options of status", std::nullopt;
    args.urls = split_urls(positional[0]);
    if (args.urls.empty()) return problem = "no URL given", std::nullopt;
    if (positional.size() == 2) args.job = positional[1];
    return args;
}

// ---- HTTP: one request, one answer --------------------------------------------------------

struct answer {
    unsigned status = 0;
    std::string content_type, body;
};

/// One request with a deadline; nullopt and `problem` when the service cannot be reached.
inline std::optional<answer> exchange(const endpoint& at, boost::beast::http::verb method, const std::string& path,
                                      const std::string& token, std::string& problem) {
    namespace beast = boost::beast;
    namespace bhttp = boost::beast::http;
    using tcp = boost::asio::ip::tcp;
    try {
        boost::asio::io_context io;
        beast::tcp_stream stream{io};
        stream.expires_after(std::chrono::seconds{5});
        tcp::resolver resolver{io};
        stream.connect(resolver.resolve(at.host, at.port));
        bhttp::request<bhttp::string_body> request{method, at.prefix + path, 11};
        request.set(bhttp::field::host, at.host + ":" + at.port);
        request.set(bhttp::field::user_agent, "sked-tool");
        if (!token.empty()) request.set(bhttp::field::authorization, "Bearer " + token);
        if (method == bhttp::verb::post) request.prepare_payload();
        bhttp::write(stream, request);
        beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);  // a status of 100,000 jobs
        bhttp::read(stream, buffer, parser);
        const auto& r = parser.get();
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        return answer{r.result_int(), std::string(r[bhttp::field::content_type]), r.body()};
    } catch (const boost::system::system_error& e) {
        problem = "unreachable: " +
                  (e.code() == beast::error::timeout ? std::string("no answer within 5 s") : e.code().message());
        return std::nullopt;
    }
}

// ---- status ---------------------------------------------------------------------------------

/// A replica as `sked status` saw it.
struct replica_view {
    std::string url;
    std::optional<std::string> unreachable{};  ///< why it could not be read (exit 2)
    bool healthy = false;
    std::string health_reason{};
    nlohmann::json status{};
};

/// /scheduler/status must be sked's JSON: an object with "replica", "running" and "jobs".
inline bool looks_like_sked(const nlohmann::json& j) {
    return j.is_object() && j.contains("replica") && j.contains("running") && j.contains("jobs") &&
           j["jobs"].is_array();
}

inline replica_view read_replica(const endpoint& at) {
    replica_view view{.url = at.text};
    std::string problem;
    const auto status = exchange(at, boost::beast::http::verb::get, "/scheduler/status", {}, problem);
    if (!status) return view.unreachable = problem, view;
    if (status->status != 200) {
        view.unreachable =
            "not a sked service: GET " + at.prefix + "/scheduler/status answered " + std::to_string(status->status);
        return view;
    }
    view.status = nlohmann::json::parse(status->body, nullptr, false);
    if (!looks_like_sked(view.status)) {
        view.unreachable = "not a sked service: GET " + at.prefix + "/scheduler/status is not sked's status JSON";
        return view;
    }
    const auto health = exchange(at, boost::beast::http::verb::get, "/health", {}, problem);
    if (!health) return view.unreachable = problem, view;
    const auto body = nlohmann::json::parse(health->body, nullptr, false);
    view.healthy = health->status == 200 && body.is_object() && body.value("healthy", false);
    if (!view.healthy)
        view.health_reason = body.is_object() && body.contains("reason") && body["reason"].is_string()
                                 ? body["reason"].get<std::string>()
                                 : "GET /health answered " + std::to_string(health->status);
    return view;
}

inline std::string text_of(const nlohmann::json& j, const char* key, std::string_view none = "-") {
    if (!j.contains(key) || j[key].is_null()) return std::string(none);
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

inline std::uint64_t count_of(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<std::uint64_t>() : 0;
}

/// An instant of the status (UTC, RFC 3339) in the job's zone, with its offset.
inline std::string in_zone(const std::string& utc, std::string_view zone) {
    const auto t = parse_rfc3339(utc);
    if (!t) return utc;
    const auto seconds = std::chrono::floor<std::chrono::seconds>(*t);
    if (zone.empty() || zone == "UTC") return rfc3339(seconds);
    if (const auto z = date_zone::locate(zone)) return rfc3339(seconds, z->segment(seconds).offset);
    return utc + " (zone " + std::string(zone) + " unknown here)";
}

// "1.204s", as sked's log lines write a duration.
inline std::string millis_text(std::uint64_t ms) {
    return sked::detail::seconds_text(std::chrono::milliseconds{static_cast<std::int64_t>(ms)});
}

// Columns padded to their widest cell; the last one is not padded.
inline void print_table(std::FILE* out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (width.size() <= c) width.push_back(0);
            width[c] = std::max(width[c], row[c].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line.append(width[c] - row[c].size() + 2, ' ');
        }
        std::fprintf(out, "%s\n", line.c_str());
    }
}

inline void print_replica(const replica_view& view) {
    if (view.unreachable) {
        std::printf("%s: %s\n", view.url.c_str(), view.unreachable->c_str());
        return;
    }
    const auto& s = view.status;
    const auto& backend = s.contains("backend") ? s["backend"] : nlohmann::json::object();
    std::printf("replica %s at %s: %s%s; backend %s; stagger %s; %zu jobs; now %s\n", text_of(s, "replica").c_str(),
                view.url.c_str(), view.healthy ? "healthy" : "UNHEALTHY: ", view.health_reason.c_str(),
                backend.value("reachable", true) ? "reachable" : "UNREACHABLE", s.value("stagger", true) ? "on" : "off",
                s["jobs"].size(), text_of(s, "now").c_str());
    std::vector<std::vector<std::string>> rows{{"JOB", "SCHEDULE", "NEXT RUN (job's zone)", "LAST RUN", "RESULT", "OK",
                                                "FAILED", "TIMED OUT", "SKIPPED", "LATE (last/max)", "STATE"}};
    for (const auto& j : s["jobs"]) {
        if (!j.is_object()) continue;
        const auto schedule = text_of(j, "schedule", "");
        const auto zone = schedule_zone(schedule);
        const auto& counts = j.contains("counts") ? j["counts"] : nlohmann::json::object();
        std::uint64_t skipped = 0;
        if (counts.contains("skipped") && counts["skipped"].is_object())
            for (const auto& [reason, n] : counts["skipped"].items())
                if (reason != "held_elsewhere" && n.is_number_unsigned()) skipped += n.get<std::uint64_t>();
        std::string state;
        if (j.value("paused", false)) state += "paused ";
        if (count_of(j, "running") > 0) state += "running ";
        if (!j.value("stagger", true)) state += "stagger-off ";
        if (state.empty()) state = "-";
        rows.push_back(
            {text_of(j, "name"), schedule_in_words(schedule),
             j.contains("next_run") && j["next_run"].is_string() ? in_zone(j["next_run"].get<std::string>(), zone)
                                                                 : "-",
             j.contains("last_start") && j["last_start"].is_string() ? in_zone(j["last_start"].get<std::string>(), zone)
                                                                     : "-",
             text_of(j, "last_result"), std::to_string(count_of(counts, "succeeded")),
             std::to_string(count_of(counts, "failed")), std::to_string(count_of(counts, "timed_out")),
             std::to_string(skipped),
             millis_text(count_of(j, "lateness_ms")) + "/" + millis_text(count_of(j, "max_lateness_ms")), state});
    }
    print_table(stdout, rows);
}

/// 0 when every replica is healthy, 1 when one is not, 2 when one cannot be read.
inline int status_once(const std::vector<endpoint>& replicas, bool json) {
    int worst = 0;
    std::vector<replica_view> views;
    for (const auto& at : replicas) {
        views.push_back(read_replica(at));
        worst = std::max(worst, views.back().unreachable ? 2 : views.back().healthy ? 0 : 1);
    }
    if (json) {
        // One replica: its status as served; several: an array of them.
        nlohmann::json all = nlohmann::json::array();
        for (const auto& v : views)
            all.push_back(v.unreachable ? nlohmann::json{{"url", v.url}, {"error", *v.unreachable}} : v.status);
        std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump().c_str());
        for (const auto& v : views)
            if (v.unreachable) std::fprintf(stderr, "sked: %s: %s\n", v.url.c_str(), v.unreachable->c_str());
        return worst;
    }
    for (std::size_t i = 0; i < views.size(); ++i) {
        if (i > 0) std::printf("\n");
        print_replica(views[i]);
    }
    return worst;
}

inline int run_status(const service_arguments& args, const std::vector<endpoint>& replicas) {
    if (!args.watch_seconds) return status_once(replicas, args.json);
    const bool screen = isatty(STDOUT_FILENO) != 0 && !args.json;
    while (true) {  // until interrupted
        if (screen) std::printf("\x1b[H\x1b[2J");
        status_once(replicas, args.json);
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::seconds{*args.watch_seconds});
        if (!screen) std::printf("\n");
    }
}

// ---- control --------------------------------------------------------------------------------

inline std::string error_of(const answer& a) {
    const auto body = nlohmann::json::parse(a.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string())
        return body["error"].get<std::string>();
    return "HTTP " + std::to_string(a.status);
}

inline int run_control(const service_arguments& args, const std::vector<endpoint>& replicas) {
    std::string path;
    if (args.job.empty()) {
        path = "/scheduler/" + args.command;
    } else {
        path = "/scheduler/jobs/";
        for (const char letter : args.job) {  // percent-encode all but unreserved characters
            const auto c = static_cast<unsigned char>(letter);
            const bool plain = std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
            char escaped[4];
            std::snprintf(escaped, sizeof escaped, "%%%02X", c);
            path += plain ? std::string(1, static_cast<char>(c)) : std::string(escaped);
        }
        path += "/" + args.command;
    }
    int worst = 0;
    for (const auto& at : replicas) {
        std::string problem;
        const auto reply = exchange(at, boost::beast::http::verb::post, path, args.token, problem);
        if (!reply) {
            std::fprintf(stderr, "sked: %s: %s\n", at.text.c_str(), problem.c_str());
            worst = 2;
            continue;
        }
        if (reply->status == 200) {
            std::printf("%s: %s %s\n", at.text.c_str(), args.command.c_str(),
                        args.job.empty() ? "(every job)" : args.job.c_str());
            continue;
        }
        std::string hint;
        if (reply->status == 401) hint = " (give the token with --token or SKED_TOKEN)";
        if (reply->status == 404 && reply->content_type != "application/json") hint = " (is this a sked service?)";
        std::fprintf(stderr, "sked: %s: refused, %u: %s%s\n", at.text.c_str(), reply->status, error_of(*reply).c_str(),
                     hint.c_str());
        worst = std::max(worst, reply->status == 404 && !hint.empty() ? 2 : 1);
    }
    return worst;
}

/// The service commands; 2 for bad usage, with the message in `problem`.
inline int run_service_command(const service_arguments& args, std::string& problem) {
    std::vector<endpoint> replicas;
    for (const auto& url : args.urls) {
        auto at = parse_url(url, problem);
        if (!at) return 2;
        replicas.push_back(std::move(*at));
    }
    return args.command == "status" ? run_status(args, replicas) : run_control(args, replicas);
}

}  // namespace sked::tool
