// A real PostgreSQL server for a test: a cluster made by initdb in a directory of its
// own, the postmaster started on a free 127.0.0.1 port (and a socket in that
// directory), stopped by its pid when the fixture ends. Run as root (CI), the server
// runs as the unprivileged user `postgres`, as PostgreSQL insists.
//
// Logins over TCP need the password (scram-sha-256), so a wrong one can be tested.
#pragma once

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "numbered.hpp"
#include "ports.hpp"
#include "sked/postgres/migrate.hpp"
#include "sked/postgres/options.hpp"

#ifndef SKED_POSTGRES_BINDIR
#error "SKED_POSTGRES_BINDIR names the directory of initdb and postgres (tests/CMakeLists.txt)"
#endif

namespace sked::test {

class postgres_server {
public:
    static constexpr const char* user = "sked";
    static constexpr const char* password = "sked-test-password";

    postgres_server() : port_(free_loopback_port()) {
        char pattern[] = "/tmp/sked-postgres-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
        directory_ = pattern;
        if (::geteuid() == 0) {
            const passwd* account = ::getpwnam("postgres");
            if (!account)
                throw std::runtime_error("running as root, and there is no user 'postgres' to run the server");
            uid_ = account->pw_uid;
            gid_ = account->pw_gid;
            if (::chown(directory_.c_str(), uid_, gid_) != 0) throw std::runtime_error("chown " + directory_);
        }
        std::ofstream{directory_ + "/password"} << password << "\n";
        (void)::chown((directory_ + "/password").c_str(), uid_, gid_);
        run_to_end({bin("initdb"), "-D", data(), "-U", user, "--pwfile", directory_ + "/password", "--auth-host",
                    "scram-sha-256", "--auth-local", "trust", "--no-sync", "-E", "UTF8", "--locale", "C"});
        start();
    }

    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    ~postgres_server() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }

    [[nodiscard]] int port() const noexcept { return port_; }
    [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

    /// The URL of the database `postgres` as the test user, with `pass` as the password.
    [[nodiscard]] std::string url(const std::string& pass = password) const {
        return "postgresql://" + std::string(user) + ":" + pass + "@127.0.0.1:" + std::to_string(port_) + "/postgres";
    }

    /// Options for a client of this server; `schema` separates tests sharing it.
    [[nodiscard]] sked::postgres::options client(std::string schema = "sked") const {
        sked::postgres::options settings;
        settings.url = url();
        settings.schema = std::move(schema);
        settings.connect_timeout = std::chrono::milliseconds{2000};
        settings.command_timeout = std::chrono::milliseconds{2000};
        return settings;
    }

    /// Starts the postmaster in a process group of its own, and waits until it answers.
    void start() {
        if (running()) return;
        pid_ = spawn({bin("postgres"), "-D", data(), "-p", std::to_string(port_), "-k", directory_, "-c",
                      "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"});
        wait_until_ready();
    }

    /// SIGINT: PostgreSQL's fast shutdown (clients are disconnected, work is saved).
    void stop() { end(SIGINT); }
    /// SIGKILL to the postmaster and every backend: a crash; the next start recovers.
    void kill() { end(SIGKILL); }
    /// SIGSTOP / SIGCONT to every process of the server: it answers nothing.
    void pause() const { signal_all(SIGSTOP); }
    void resume() const { signal_all(SIGCONT); }

private:
    [[nodiscard]] std::string data() const { return directory_ + "/data"; }
    static std::string bin(const char* program) { return std::string(SKED_POSTGRES_BINDIR) + "/" + program; }

    // fork + exec, as `postgres` when run as root; output to the directory's log.
    pid_t spawn(std::vector<std::string> args) const {
        std::vector<char*> argv;
        for (auto& arg : args)
            argv.push_back(arg.data());
        argv.push_back(nullptr);
        const int log = ::open((directory_ + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0) (void)::fchown(log, uid_, gid_);
        const pid_t child = ::fork();
        if (child == 0) {  // only async-signal-safe calls from here
            ::setpgid(0, 0);
            if (log >= 0) ::dup2(log, 1), ::dup2(log, 2);
            if (uid_ != 0 && (::setgid(gid_) != 0 || ::setuid(uid_) != 0)) ::_exit(126);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        if (log >= 0) ::close(log);
        if (child < 0) throw std::runtime_error("fork failed");
        return child;
    }

    void run_to_end(std::vector<std::string> args) const {
        const pid_t child = spawn(std::move(args));
        int status = 0;
        ::waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("initdb failed; see " + directory_ + "/log");
    }

    // The postmaster's children (each backend is a session of its own, so not in its
    // process group), from /proc.
    [[nodiscard]] std::vector<pid_t> children() const {
        std::vector<pid_t> found;
        for (const auto& entry : std::filesystem::directory_iterator{"/proc"}) {
            std::ifstream stat{entry.path() / "stat"};
            std::string line;
            if (!std::getline(stat, line)) continue;
            const auto after_name = line.rfind(')');
            if (after_name == std::string::npos) continue;
            std::istringstream fields{line.substr(after_name + 2)};
            char state = 0;
            pid_t parent = 0;
            fields >> state >> parent;
            if (parent == pid_) found.push_back(static_cast<pid_t>(std::stol(entry.path().filename().string())));
        }
        return found;
    }

    void signal_all(int signal) const {
        if (!running()) return;
        ::kill(pid_, signal);
        for (const pid_t child : children())
            ::kill(child, signal);
    }

    void end(int signal) {
        if (!running()) return;
        signal_all(SIGCONT);
        const auto backends = children();
        if (signal == SIGKILL) {
            signal_all(SIGKILL);
        } else {
            ::kill(pid_, signal);
        }
        int status = 0;
        ::waitpid(pid_, &status, 0);
        // The backends are gone before the next start looks at the shared memory.
        for (const pid_t backend : backends)
            for (int i = 0; i < 500 && ::kill(backend, 0) == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds{10});
        pid_ = 0;
    }

    void wait_until_ready() {
        const auto words = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres connect_timeout=2";
        for (int attempt = 0; attempt < 1000; ++attempt) {
            if (PQping(words.c_str()) == PQPING_OK) return;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                throw std::runtime_error("postgres exited at start; see " + directory_ + "/log");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        throw std::runtime_error("postgres did not answer within 10 s; see " + directory_ + "/log");
    }

    int port_;
    std::string directory_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    pid_t pid_ = 0;
};

/// One server for the tests of a binary, started at first use and stopped at exit;
/// each test keeps its tables in a schema of its own (fresh_schema).
inline postgres_server& shared_postgres_server() {
    static postgres_server server;
    return server;
}

/// A schema name no other test of this process uses: "t1", "t2", ...
inline std::string fresh_schema() {
    static std::atomic<std::size_t> counter{0};
    return numbered("t", ++counter);
}

/// Options for a schema of its own on the shared server, migrated.
inline sked::postgres::options migrated_schema() {
    auto settings = shared_postgres_server().client(fresh_schema());
    const auto done = sked::postgres::migrate(settings);
    if (!done) throw std::runtime_error("migrating " + settings.schema + ": " + done.error().message());
    return settings;
}

}  // namespace sked::test
