#!/usr/bin/env bash
# The one command for the benchmarks (docs/performance.md):
#   bash bench/run.sh [send|webhooks|all|overload] [--seconds N] [--warmup N] [--server-warmup N] [--repeat N]
# Builds the server and the bench in Release, then runs the bench, which starts the server itself.
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet build src/TwaBot.Api -c Release --nologo -v quiet
dotnet build bench/TwaBot.Bench -c Release --nologo -v quiet

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(date -u '+%Y-%m-%d %H:%M UTC')"
exec dotnet bench/TwaBot.Bench/bin/Release/net10.0/TwaBot.Bench.dll "$@"
