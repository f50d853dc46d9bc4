# mockidp container image: a static-ish release binary on distroless, non-root, fixtures baked in.
#   docker build -t mockidp .
#   docker run --rm -p 8180:8180 mockidp
# The server listens on 0.0.0.0:8180 in the container; set MOCKIDP_ADMIN_TOKEN to protect the
# admin API (/_mockidp/), which is otherwise open to anyone who can reach the port.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
COPY fixtures ./fixtures
RUN cargo build --release --locked && strip target/release/mockidp

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/mockidp /usr/local/bin/mockidp
COPY fixtures /fixtures
ENV MOCKIDP_BIND=0.0.0.0 \
    MOCKIDP_PORT=8180
EXPOSE 8180
USER nonroot
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/usr/local/bin/mockidp", "health", "--url", "http://127.0.0.1:8180"]
ENTRYPOINT ["/usr/local/bin/mockidp"]
CMD ["serve", "--config", "/fixtures/default.toml"]
