# slipwayd in a container, for docker-compose.yml. Builds the Debian package
# from this tree and installs it into a clean debian:12, so the image gets
# exactly the runtime libraries the package depends on.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config dpkg-dev file \
      libpoco-dev libsqlitecpp-dev libsqlite3-dev libgit2-dev libarchive-dev libsimdjson-dev \
      libsystemd-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DBUILD_TESTING=OFF >/dev/null \
 && cmake --build /build -j"$(nproc)" \
 && cd /build && cpack -G DEB

FROM debian:12
COPY --from=build /build/slipway_*.deb /tmp/
# docker.io for its docker CLI only: the engine is the host's, through the
# socket docker-compose.yml mounts. ca-certificates: Git over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends /tmp/slipway_*.deb docker.io ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/slipway_*.deb \
 && rm -f /etc/slipway/webhook.secret /etc/slipway/api.token
# Secrets come from compose's secrets: in /run/secrets, where slipway.ini's
# bare file names are looked up (the same rule as systemd's LoadCredential=).
ENV CREDENTIALS_DIRECTORY=/run/secrets
USER slipway
VOLUME /var/lib/slipway
EXPOSE 8080
ENTRYPOINT ["/usr/bin/slipwayd"]
CMD ["--config", "/etc/slipway/slipway.ini"]
