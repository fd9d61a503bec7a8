# syntax=docker/dockerfile:1

# Build stage: the cache mounts keep the crates.io registry and the target directory
# between builds, so a source change recompiles palaver and not its dependencies.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/palaver /usr/local/bin/palaver

# Runtime stage: SQLite is compiled in and migrations are embedded in the binary, so
# the image needs only CA certificates, the binary and the static page. Without a
# DATABASE_URL the database lives in /data, a volume, so it outlives the container:
#
#   docker run -p 127.0.0.1:8080:8080 -v palaver-data:/data palaver
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system palaver \
    && useradd --system --gid palaver --home-dir /app --shell /usr/sbin/nologin palaver \
    && mkdir -p /app /data \
    && chown palaver:palaver /app /data
WORKDIR /app
COPY --from=builder /usr/local/bin/palaver /usr/local/bin/palaver
COPY static /app/static
ENV BIND_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/palaver.db
VOLUME ["/data"]
EXPOSE 8080
USER palaver
# The binary answers its own health check (GET /health over a plain socket): no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["palaver", "health"]
CMD ["palaver", "serve"]
