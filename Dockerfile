# mockidp container image: the static binary on an empty base (`FROM scratch`: nothing to pull,
# nothing but mockidp inside, ~10 MB). Build the binary first, then the image:
#   packaging/build-static.sh && docker build -t mockidp .
#   docker run --rm -p 8180:8180 -e MOCKIDP_ADMIN_TOKEN=change-me mockidp
# With no Rust toolchain but a machine that can pull images, Dockerfile.source does both steps:
#   docker build -f Dockerfile.source -t mockidp .
# The server listens on 0.0.0.0:8180 in the container (the binary's own default is 127.0.0.1);
# set MOCKIDP_ADMIN_TOKEN to protect the admin API (/_mockidp/), which is otherwise open to
# anyone who can reach the port. Mount your fixtures over /fixtures to change clients and users.
# If you change MOCKIDP_PORT, change MOCKIDP_URL (what the HEALTHCHECK calls) with it.

# --- final stage: keep identical to the one in Dockerfile.source (tests/it/packaging.rs) ---
FROM scratch
COPY target/static/mockidp /usr/local/bin/mockidp
COPY fixtures /fixtures
COPY packaging/container/nsswitch.conf /etc/nsswitch.conf
ENV MOCKIDP_BIND=0.0.0.0 \
    MOCKIDP_PORT=8180 \
    MOCKIDP_URL=http://127.0.0.1:8180
EXPOSE 8180
# A numeric uid:gid (no /etc/passwd on scratch): Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
# The engine runs the check every second until healthy and then every second too: one exec of a
# static binary (~1 ms); `docker run` to healthy is ~1 s.
HEALTHCHECK --interval=1s --timeout=2s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/mockidp", "health"]
ENTRYPOINT ["/usr/local/bin/mockidp"]
CMD ["serve", "--config", "/fixtures/default.toml"]
