# syntax=docker/dockerfile:1
# TwaBot server: build with the .NET SDK image, run on the smaller ASP.NET runtime image.
#   docker build -t twabot .
#   docker run -p 8080:8080 -v twabot-data:/data -e TwaBot__AdminKey=... -e TwaBot__Meta__AppSecret=... \
#              -e TwaBot__Meta__VerifyToken=... twabot

# The SDK runs on the build machine's platform and publishes for the image's (amd64 or arm64).
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
# Restore first, from the project files only, so the layer is cached until dependencies change.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/TwaBot.Api/TwaBot.Api.csproj src/TwaBot.Api/packages.lock.json src/TwaBot.Api/
# Locked mode: exactly the packages (and content hashes) in packages.lock.json, or the build fails. ReadyToRun here
# too, so the restore fetches the SDK's crossgen pack (the SDK picks its version; no lock-file entry).
RUN dotnet restore src/TwaBot.Api/TwaBot.Api.csproj -a $TARGETARCH --locked-mode -p:PublishReadyToRun=true
COPY src/ src/
# For one architecture: SQLite's native library for that platform only. ReadyToRun: our assemblies and the packages'
# ship precompiled, so a start JITs less: a restart reaches /healthz in about 0.7x the time, and the first send answers
# sooner, for 15 MB more (29 MB in all, not 14; docs/performance.md, "Cold start").
RUN dotnet publish src/TwaBot.Api/TwaBot.Api.csproj --configuration Release --no-restore -a $TARGETARCH -p:PublishReadyToRun=true --output /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl for the health check; tzdata so businesses' IANA time zones resolve, and tzdata-legacy for their older
# names (Asia/Calcutta, US/Eastern), which the admin API accepts and a database from another host may hold
# (Ubuntu 24.04, this image's base, moved them out of tzdata); sqlite3 for online backups (docs/operations.md).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends curl tzdata tzdata-legacy sqlite3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# The SQLite database (its -wal/-shm files, the webhook inbox beside it, and the twabot.keys folder that
# encrypts Meta access tokens and what Idempotency-Keys keep) live on a volume owned by the unprivileged user
# (APP_UID, 1654, set by the base image); a bind-mounted folder must be writable by that uid too.
RUN mkdir -p /data && chown $APP_UID:$APP_UID /data
VOLUME ["/data"]
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080 \
    ConnectionStrings__TwaBot="Data Source=/data/twabot.db"
EXPOSE 8080
# A numeric user, so that orchestrators that insist on a non-root user (runAsNonRoot) can check it.
USER $APP_UID
# /healthz needs no key and reports whether the process serves requests and opens its database; it asks
# the first port in ASPNETCORE_HTTP_PORTS, so changing that setting keeps the check right.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD port="${ASPNETCORE_HTTP_PORTS:-8080}"; curl --fail --silent --output /dev/null "http://localhost:${port%%[;,]*}/healthz" || exit 1
ENTRYPOINT ["dotnet", "TwaBot.Api.dll"]
