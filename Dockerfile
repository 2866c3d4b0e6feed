# syntax=docker/dockerfile:1
# TwaBot server: build with the .NET SDK image, run on the smaller ASP.NET runtime image.
#   docker build -t twabot .
#   docker run -p 8080:8080 -v twabot-data:/data -e TwaBot__AdminKey=... -e TwaBot__Meta__AppSecret=... \
#              -e TwaBot__Meta__VerifyToken=... twabot

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is cached until dependencies change.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/TwaBot.Api/TwaBot.Api.csproj src/TwaBot.Api/
RUN dotnet restore src/TwaBot.Api/TwaBot.Api.csproj
COPY src/ src/
RUN dotnet publish src/TwaBot.Api/TwaBot.Api.csproj --configuration Release --no-restore --output /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl for the health check; tzdata so businesses' IANA time zones resolve.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends curl tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# The SQLite database (and its -wal/-shm files) live on a volume owned by the unprivileged user.
RUN mkdir -p /data && chown app:app /data
VOLUME ["/data"]
ENV ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_HTTP_PORTS=8080 \
    ConnectionStrings__TwaBot="Data Source=/data/twabot.db"
EXPOSE 8080
USER app
# /healthz needs no key and reports whether the process serves requests and opens its database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl --fail --silent --output /dev/null http://localhost:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "TwaBot.Api.dll"]
