// Prints the Lua source of sked's claim script, so that benchmarks/redis_script_cost.sh
// can have redis-benchmark send it exactly as it sends the bare script it compares with.
#include <cstdio>

#include "sked/redis/scripts.hpp"

int main() {
    const auto source = sked::redis::detail::claim_source;
    return std::fwrite(source.data(), 1, source.size(), stdout) == source.size() ? 0 : 1;
}
