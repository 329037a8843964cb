# release-audit container image: one static binary and the CA certificates, nothing else.
#
# Nothing is compiled here and nothing runs: the binaries are cross-compiled beforehand
# (`scripts/image.sh binaries`: musl targets for amd64 and arm64, no emulation) into
# dist/linux-<arch>/release-audit, and this file only assembles them. So a multi-platform
# build needs no QEMU, and the same inputs give the same image digest when the builder
# is told the time:
#   buildah bud --timestamp "$SOURCE_DATE_EPOCH" --platform linux/amd64,linux/arm64 --manifest …
# (`scripts/image.sh build` does exactly that; CI and the release workflow both call it.)
#
# The CA bundle comes from a base image pinned by digest, never from the build machine,
# so CI and the release build copy the same bytes. The container test swaps CERTS_IMAGE
# for a local image (it pulls nothing); everything else is this file as released.

ARG CERTS_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

FROM ${CERTS_IMAGE} AS certs

FROM scratch
ARG TARGETARCH
# Container actions run as root (the runner starts them without --user), which is what
# lets the step write into the mounted workspace; scratch's default user is root.
COPY dist/linux-${TARGETARCH}/release-audit /usr/local/bin/release-audit
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.source="https://github.com/kyma-project/release-audit" \
      org.opencontainers.image.description="Turns a release into one self-verifying audit bundle." \
      org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["/usr/local/bin/release-audit"]
CMD ["run"]
