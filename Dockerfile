# syntax=docker/dockerfile:1
# release-audit container image: one static binary on a minimal base.
#
# Reproducible: bases pinned by digest, dependencies from the committed Cargo.lock
# (--locked), paths remapped, SOURCE_DATE_EPOCH honoured. Build it with
#   docker buildx build --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
#     --output type=image,name=ghcr.io/kyma-project/release-audit:X.Y.Z,rewrite-timestamp=true .
# (BuildKit ≥ 0.13 rewrites layer file times to SOURCE_DATE_EPOCH: same source, same digest.)

ARG RUST_IMAGE=rust:1.99-bookworm@sha256:fbc3a359627c6b5d9c8b20aae5c413a87392954f020006d7a9f7d95938964b23
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

FROM ${RUST_IMAGE} AS build
ARG SOURCE_DATE_EPOCH=0
ENV SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} \
    CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/*
RUN rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY tests/support/Cargo.toml tests/support/Cargo.toml
COPY src src
COPY tests/support/src tests/support/src
RUN target="$(uname -m)-unknown-linux-musl" \
 && RUSTFLAGS="-C target-feature=+crt-static --remap-path-prefix=/src=. --remap-path-prefix=/usr/local/cargo=cargo" \
    cargo build --release --locked --package release-audit --bin release-audit --target "$target" \
 && install -D -m 0755 "target/$target/release/release-audit" /out/release-audit \
 && touch -d "@${SOURCE_DATE_EPOCH}" /out/release-audit

FROM ${BASE_IMAGE}
# Container actions run as root so they can write to the mounted workspace
# (/github/workspace is owned by the runner's user, not by distroless' nonroot).
USER 0:0
COPY --from=build /out/release-audit /usr/local/bin/release-audit
LABEL org.opencontainers.image.source="https://github.com/kyma-project/release-audit" \
      org.opencontainers.image.description="Turns a release into one self-verifying audit bundle." \
      org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["/usr/local/bin/release-audit"]
CMD ["run"]
