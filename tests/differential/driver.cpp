// The sked side of the differential tests. Reads lines
//     EXPR <TAB> START <TAB> COUNT [<TAB> ZONE <TAB> END]
// (instants in Unix seconds) and prints the following occurrences, at most COUNT and,
// with a ZONE (IANA name), only those before END, in Unix seconds; or "error <code>"
// when the expression does not parse.
#include <sked/cron.hpp>
#include <sked/date_zone.hpp>
#include <sked/zoned.hpp>

#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main() {
    using std::chrono::seconds;
    using std::chrono::sys_seconds;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::vector<std::string> columns;
        std::istringstream split(line);
        for (std::string column; std::getline(split, column, '\t');)
            columns.push_back(column);
        const auto parsed = sked::cron::parse(columns.at(0));
        if (!parsed) {
            std::cout << "error " << sked::to_string(parsed.error().code) << '\n';
            continue;
        }
        const sys_seconds start{seconds{std::stoll(columns.at(1))}};
        const long count = std::stol(columns.at(2));
        std::vector<sys_seconds> found;
        if (columns.size() == 5) {
            const auto zone = sked::date_zone::locate(columns[3]);
            if (!zone) return std::cerr << "unknown zone " << columns[3] << '\n', 2;
            const sys_seconds end{seconds{std::stoll(columns[4])}};
            for (const auto t : sked::occurrences(*parsed, start, *zone)) {
                if (t >= end || static_cast<long>(found.size()) == count) break;
                found.push_back(t);
            }
        } else {
            for (auto t = parsed->next(start); t && static_cast<long>(found.size()) < count; t = parsed->next(*t))
                found.push_back(*t);
        }
        for (std::size_t i = 0; i < found.size(); ++i)
            std::cout << (i == 0 ? "" : " ") << found[i].time_since_epoch().count();
        std::cout << '\n';
    }
}
