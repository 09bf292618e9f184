# Accord in a container. Used by docker-compose.yml; the native path is `make run`.
FROM swift:6.2-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev pkg-config zlib1g-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Plugins ./Plugins
COPY Tests ./Tests
COPY sql ./sql
COPY workflows ./workflows
COPY reference ./reference
RUN swift build -c release --product accord --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/accord" /usr/local/bin/accord

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libcurl4 zlib1g ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/accord --create-home accord
COPY --from=build /usr/local/bin/accord /usr/local/bin/accord
USER accord
ENV ACCORD_HOME=/var/lib/accord
EXPOSE 8080
HEALTHCHECK CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 || exit 1"]
ENTRYPOINT ["accord"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
