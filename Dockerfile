# countersign in a container: `docker build -t countersign .` from the repository root, then
#   docker run -d --name countersign -p 127.0.0.1:7400:7400 -v countersign-data:/var/lib/countersign countersign
#   docker exec countersign cat /var/lib/countersign/admin.token
# See docs/operations.md (Docker).

# The build: Debian 12's compiler and libraries, the build dependencies of
# scripts/install-deps.sh only (no test or browser packages), a Release build of the server
# alone, packaged as the .deb `make package` makes.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config dpkg-dev file \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libsqlite3-dev libpq-dev libssl-dev libsodium-dev libspdlog-dev libfmt-dev libcli11-dev \
      libtomlplusplus-dev libmimalloc-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOUNTERSIGN_TESTS=OFF \
 && cmake --build /build --target countersign \
 && cd /build && cpack -G DEB \
 && mv /build/countersign_*.deb /countersign.deb

# The image: the package installed on Debian 12 slim, which brings the runtime libraries it
# depends on, the countersign user and /var/lib/countersign (its postinst); curl for the
# health check.
FROM debian:12-slim
COPY --from=build /countersign.deb /tmp/countersign.deb
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      /tmp/countersign.deb curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/countersign.deb
# The packaged /etc/countersign/countersign.toml, listening on every interface of the
# container instead of its loopback (the environment wins over the file). With auth on, every
# call but the health endpoints needs a token. Mount your own config over the file to add
# policies and channels.
ENV COUNTERSIGN_CONFIG=/etc/countersign/countersign.toml \
    COUNTERSIGN_LISTEN=0.0.0.0:7400
USER countersign
WORKDIR /var/lib/countersign
VOLUME /var/lib/countersign
EXPOSE 7400
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${COUNTERSIGN_LISTEN##*:}/healthz" || exit 1
ENTRYPOINT ["countersign"]
CMD ["serve"]
