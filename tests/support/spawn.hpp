// Starting a test's helper process: argv from strings, our environment plus `extra`.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <string>
#include <vector>

extern char** environ;

namespace sked::test {

/// posix_spawn of args[0] with `args`; the child's pid, or -1.
inline pid_t spawn_process(std::vector<std::string> args, std::vector<std::string> extra_environment = {}) {
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e)
        envp.push_back(*e);
    for (auto& e : extra_environment)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t child = -1;
    if (::posix_spawn(&child, args[0].c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) return -1;
    return child;
}

}  // namespace sked::test
