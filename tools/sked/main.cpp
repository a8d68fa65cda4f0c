// sked — the command-line face of the library.
//     sked next [--tz ZONE] [--from INSTANT] [-n COUNT] [--name JOB] EXPR
//     sked explain [--name JOB] EXPR
//     sked check FILE [--all]
//     sked plan [--json] [--within DUR] [--svg OUT [--window DUR]] FILE
//     sked status URL [--json] [--watch [SECONDS]]        (service_commands.hpp)
//     sked pause|resume|run|stagger-off|stagger-on URL [JOB] [--token T]
// Exit status: 0 success, 1 no occurrence left (next) or a collision (check), 2 bad
// usage, a bad expression or a malformed job file; status and the control commands
// have their own (service_commands.hpp).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <sked/cron.hpp>
#include <sked/cron_explain.hpp>
#include <sked/date_zone.hpp>
#include <sked/rfc3339.hpp>
#include <sked/zoned.hpp>

#ifdef SKED_TOOL_HTTP
#include "service_commands.hpp"
#endif
#include "stagger_commands.hpp"
#ifdef SKED_TOOL_POSTGRES
#include <sked/postgres/migrate.hpp>
#endif

namespace {

using any_zone = std::variant<sked::utc_zone, sked::fixed_zone, sked::date_zone>;

constexpr const char* usage =
    "usage: sked next [--tz ZONE] [--from INSTANT] [-n COUNT] [--name JOB] EXPR\n"
    "       sked explain [--name JOB] EXPR\n"
    "       sked check FILE [--all]\n"
    "       sked plan [--json] [--within DUR] [--svg OUT [--window DUR]] FILE\n"
    "ZONE is an IANA name (Asia/Manila), UTC, or an offset like +05:30; it overrides a\n"
    "CRON_TZ= prefix. INSTANT is RFC 3339 (2026-11-23T12:00:00Z); the default is now.\n"
    "FILE lists jobs, one per line: NAME SCHEDULE [duration=DUR] [offset=DUR] [pinned]\n"
    "(docs/stagger.md). check exits 1 when jobs collide.\n";

constexpr const char* service_usage =
    "       sked status URL[,URL...] [--json] [--watch [SECONDS]]\n"
    "       sked pause|resume|run URL[,URL...] JOB [--token T]\n"
    "       sked stagger-off|stagger-on URL[,URL...] [JOB] [--token T]\n"
    "URL is a replica's HTTP address (http://127.0.0.1:3000); the token is --token or\n"
    "SKED_TOKEN. status exits 0 healthy, 1 unhealthy, 2 unreachable (docs/operations.md).\n";

constexpr const char* migrate_usage =
    "       sked migrate URL [SCHEMA]\n"
    "URL is libpq's (postgresql://USER@HOST/DB); SCHEMA is sked's schema there (sked).\n"
    "Creates or upgrades it (docs/locks.md, \"PostgreSQL\"); exits 0 done, 2 refused or failed.\n";

bool is_service_command(std::string_view command) {
    return command == "status" || command == "pause" || command == "resume" || command == "run" ||
           command == "stagger-off" || command == "stagger-on";
}

void print_usage(std::FILE* out) {
    std::fputs(usage, out);
    std::fputs(service_usage, out);
    std::fputs(migrate_usage, out);
}

struct arguments {
    std::string command;
    std::string expression;
    std::optional<std::string> zone;
    std::optional<std::string> from;
    std::string job_name;
    long count = 1;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "sked: %s\n", message.c_str());
    return 2;
}

// sked migrate URL [SCHEMA]: sked::postgres::migrate from a shell (a deploy step).
int run_migrate(int argc, char** argv) {
    if (argc < 3 || argc > 4) return print_usage(stderr), fail("migrate takes URL [SCHEMA]");
#ifdef SKED_TOOL_POSTGRES
    sked::postgres::options settings{.url = argv[2]};
    if (argc == 4) settings.schema = argv[3];
    const auto done = sked::postgres::migrate(settings);
    if (!done) return fail("migrate: " + done.error().message());
    if (done->from == done->to) {
        std::printf("schema %s: already at version %d\n", settings.schema.c_str(), done->to);
    } else {
        std::printf("schema %s: version %d -> %d\n", settings.schema.c_str(), done->from, done->to);
    }
    return 0;
#else
    (void)argv;
    return fail("migrate: this build of sked has no PostgreSQL client (install libpq-dev and configure again)");
#endif
}

std::optional<arguments> read_arguments(int argc, char** argv, std::string& problem) {
    arguments args;
    if (argc < 2) return problem = "missing command", std::nullopt;
    args.command = argv[1];
    std::vector<std::string> positional;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if ((arg == "--tz" || arg == "--from" || arg == "-n" || arg == "--name") && !has_value)
            return problem = std::string(arg) + " needs a value", std::nullopt;
        if (arg == "--tz")
            args.zone = argv[++i];
        else if (arg == "--from")
            args.from = argv[++i];
        else if (arg == "--name")
            args.job_name = argv[++i];
        else if (arg == "-n") {
            char* end = nullptr;
            args.count = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || args.count < 1 || args.count > 100000)
                return problem = "-n takes a count from 1 to 100000", std::nullopt;
        } else if (arg.size() > 1 && arg[0] == '-' && arg[1] == '-') {
            return problem = "unknown option " + std::string(arg), std::nullopt;
        } else {
            positional.emplace_back(arg);
        }
    }
    if (positional.size() != 1) return problem = "expected one expression (quote it)", std::nullopt;
    args.expression = positional.front();
    return args;
}

std::optional<any_zone> find_zone(const std::string& name) {
    if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "Z") return sked::utc_zone{};
    if (name[0] == '+' || name[0] == '-') {
        const auto probe = sked::parse_rfc3339("1970-01-01T00:00:00" + name);
        if (!probe) return std::nullopt;
        return sked::fixed_zone{-std::chrono::duration_cast<std::chrono::seconds>(probe->time_since_epoch())};
    }
    if (auto zone = sked::date_zone::locate(name)) return any_zone{*zone};
    return std::nullopt;
}

int run_next(const arguments& args, const sked::cron& expr) {
    const std::string zone_name = args.zone ? *args.zone : std::string(expr.zone_name());
    const auto zone = find_zone(zone_name);
    if (!zone) return fail("unknown time zone '" + zone_name + "'");
    auto from = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (args.from) {
        const auto parsed = sked::parse_rfc3339(*args.from);
        if (!parsed)
            return fail("--from '" + *args.from + "': " + std::string(parsed.error().reason) + " at column " +
                        std::to_string(parsed.error().offset + 1) + " (an RFC 3339 instant like 2026-11-23T12:00:00Z)");
        if (*parsed != std::chrono::floor<std::chrono::seconds>(*parsed))
            return fail("--from '" + *args.from + "': whole seconds only");
        from = std::chrono::floor<std::chrono::seconds>(*parsed);
    }
    return std::visit(
        [&](const auto& z) {
            const bool utc = std::is_same_v<std::decay_t<decltype(z)>, sked::utc_zone>;
            long printed = 0;
            // RFC 3339 (and sked's instants) end with the year 9999.
            const auto last = std::chrono::sys_days{std::chrono::year{10000} / 1 / 1};
            for (const auto t : sked::occurrences(expr, from, z)) {
                if (t >= last) {
                    if (printed == 0)
                        std::fprintf(stderr, "sked: no occurrence after %s before the year 10000\n",
                                     sked::rfc3339(from).c_str());
                    return printed == 0 ? 1 : 0;
                }
                const auto text = utc ? sked::rfc3339(t) : sked::rfc3339(t, z.segment(t).offset);
                std::printf("%s\n", text.c_str());
                if (++printed == args.count) break;
            }
            if (printed == 0) std::fprintf(stderr, "sked: no occurrence after %s\n", sked::rfc3339(from).c_str());
            return printed == 0 ? 1 : 0;
        },
        *zone);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        print_usage(stdout);
        return 0;
    }
    std::string problem;
    if (argc >= 2 && is_service_command(argv[1])) {
#ifdef SKED_TOOL_HTTP
        const auto service = sked::tool::read_service_arguments(argc, argv, problem);
        if (!service) return print_usage(stderr), fail(problem);
        const int code = sked::tool::run_service_command(*service, problem);
        return problem.empty() ? code : fail(problem);
#else
        return fail(std::string(argv[1]) +
                    ": this build of sked has no HTTP client (install libboost-dev and nlohmann-json3-dev and "
                    "configure again)");
#endif
    }
    if (argc >= 2 && std::string_view(argv[1]) == "migrate") return run_migrate(argc, argv);
    if (argc >= 2 && (std::string_view(argv[1]) == "check" || std::string_view(argv[1]) == "plan")) {
        const auto stagger = sked::tool::read_stagger_arguments(argc, argv, problem);
        if (!stagger) return print_usage(stderr), fail(problem);
        return stagger->command == "check" ? sked::tool::run_check(*stagger) : sked::tool::run_plan(*stagger);
    }
    const auto args = read_arguments(argc, argv, problem);
    if (!args) return print_usage(stderr), fail(problem);
    if (args->command != "next" && args->command != "explain")
        return print_usage(stderr), fail("unknown command '" + args->command + "'");
    const auto expr = sked::cron::parse(args->expression, {.job_name = args->job_name});
    if (!expr) {
        std::fprintf(stderr, "sked: %s\n  %s\n", std::string(expr.error().message().view()).c_str(),
                     args->expression.c_str());
        if (expr.error().column != 0) std::fprintf(stderr, "  %*s^\n", expr.error().column - 1, "");
        return 2;
    }
    if (args->command == "explain") return std::printf("%s\n", sked::explain(*expr).c_str()), 0;
    return run_next(*args, *expr);
}
