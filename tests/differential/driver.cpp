// The sked side of the differential tests: reads "EXPR<TAB>START<TAB>COUNT" lines (START
// in Unix seconds) and prints COUNT following occurrences in Unix seconds, or
// "error <code>" when the expression does not parse.
#include <sked/cron.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main() {
    std::string line;
    while (std::getline(std::cin, line)) {
        const auto tab = line.find('\t'), tab2 = line.find('\t', tab + 1);
        const auto parsed = sked::cron::parse(std::string_view(line).substr(0, tab));
        if (!parsed) {
            std::cout << "error " << sked::to_string(parsed.error().code) << '\n';
            continue;
        }
        auto t = std::chrono::sys_seconds{std::chrono::seconds{std::stoll(line.substr(tab + 1, tab2 - tab - 1))}};
        const int count = std::stoi(line.substr(tab2 + 1));
        for (int i = 0; i < count; ++i) {
            const auto next = parsed->next(t);
            if (!next) break;
            t = *next;
            std::cout << (i == 0 ? "" : " ") << t.time_since_epoch().count();
        }
        std::cout << '\n';
    }
}
