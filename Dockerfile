# tdv (Trusted Delivery Validator) image.
#   docker build --target runtime -t tdv .      # the image to run and publish (non-root)
#   docker run --rm -v "$PWD:/src" tdv scan . -o sarif=tdv.sarif
# The last stage, `action`, is what GitHub builds for the Docker action in action.yml: the
# same image running as root, as GitHub requires of Docker actions.
#
# Base: python:3.11.14-slim-bookworm, pinned by the digest of its multi-platform index.
# The digest was recorded on 2026-11-23 from public Dockerfiles that pin this tag (e.g.
# aliyun/alibabacloud-polardb-tool-agentic-server at cb11862c, Dockerfile); it could not be
# pulled where it was recorded. Check it when bumping:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm
# BASE_IMAGE can name another Debian-based image with python3 and python3-venv (tests use
# a local one).
ARG BASE_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${BASE_IMAGE} AS build

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# kustomize release with its published sha256 per architecture; KUSTOMIZE=skip leaves it out.
ARG KUSTOMIZE=v5.7.1
ARG KUSTOMIZE_SHA256_AMD64=ea375e7372f9aa029129d4b2d16c66b7750b7f1213c4f66f910d981c895818d8
ARG KUSTOMIZE_SHA256_ARM64=4261a040217df3bd6896597c3986d1465925726e4f22a945304b5233a4dcdbda
ARG TARGETARCH
RUN mkdir -p /opt/tools/bin \
    && if [ "$KUSTOMIZE" = skip ]; then \
        echo "kustomize: skipped (KUSTOMIZE=skip)"; \
    else \
        arch="${TARGETARCH:-$(dpkg --print-architecture)}" \
        && case "$arch" in \
            amd64) sum="$KUSTOMIZE_SHA256_AMD64" ;; \
            arm64) sum="$KUSTOMIZE_SHA256_ARM64" ;; \
            *) echo "kustomize: no checksum for $arch" >&2; exit 1 ;; \
        esac \
        && url="https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE}/kustomize_${KUSTOMIZE}_linux_${arch}.tar.gz" \
        && python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$url" /tmp/kustomize.tgz \
        && echo "$sum  /tmp/kustomize.tgz" | sha256sum --check --strict - \
        && tar -xzf /tmp/kustomize.tgz --no-same-owner -C /opt/tools/bin kustomize \
        && rm /tmp/kustomize.tgz; \
    fi

# Build the wheel, then install it with its dependencies into a venv that the runtime stage
# copies. WHEELHOUSE names a directory of wheels to build from offline (mount it with
# `buildah bud -v DIR:/wheelhouse` or `podman build -v`); empty means the package index.
ARG WHEELHOUSE=
WORKDIR /build
COPY pyproject.toml README.md ./
COPY validator/ validator/
COPY policies/ policies/
RUN extras="$(python3 -c 'import tomllib; project = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("[helm]" if "helm" in project.get("optional-dependencies", {}) else "")')" \
    && python3 -m venv /opt/tdv \
    && /opt/tdv/bin/pip wheel --no-cache-dir --no-deps ${WHEELHOUSE:+--no-index --find-links "$WHEELHOUSE"} --wheel-dir /dist . \
    && wheel="$(echo /dist/*.whl)" \
    && /opt/tdv/bin/pip install --no-cache-dir ${WHEELHOUSE:+--no-index --find-links "$WHEELHOUSE"} "${wheel}${extras}" \
    && /opt/tdv/bin/pip uninstall --yes pip \
    && : "Wheels cannot hold symlinks, so helm-python-sdk ships its 82 MB libhelm_c.so three times" \
    && : "(.so, .so.0, .so.0.2.2): a versioned copy identical to the .so becomes a link to it." \
    && find /opt/tdv -type f -name '*.so.*' | while read -r lib; do \
        base="${lib%%.so.*}.so"; \
        if [ -f "$base" ] && [ ! -L "$base" ] && cmp -s "$base" "$lib"; then ln -sf "${base##*/}" "$lib"; fi; \
    done \
    && /opt/tdv/bin/tdv --version

FROM ${BASE_IMAGE} AS runtime

ARG BASE_IMAGE
LABEL org.opencontainers.image.title="tdv" \
      org.opencontainers.image.description="Trusted Delivery Validator: policy checks for Kubernetes manifests and Terraform" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/trusted-delivery/tdv" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

# UID 1001 owns the workspace on GitHub-hosted runners, so reports can be written there;
# the home directory is where CircleCI checks out (~/project).
RUN groupadd --gid 1001 tdv \
    && useradd --uid 1001 --gid 1001 --create-home --home-dir /home/tdv --shell /bin/bash tdv

COPY --from=build /opt/tdv /opt/tdv
COPY --from=build /opt/tools/bin/ /usr/local/bin/
# The CI entry script (TDV_* variables to a tdv scan command), used by the GitHub Action and
# the GitLab template; the CircleCI orb packs the same file.
COPY orb/src/scripts/scan.sh /usr/local/bin/tdv-ci
ENV PATH=/opt/tdv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Mount the repository to scan here.
WORKDIR /src
USER 1001:1001
ENTRYPOINT ["tdv"]
CMD ["scan", "."]

# GitHub runs a Docker action as the default Docker user, root, whatever uid owns the
# workspace on the runner; the runtime image above stays non-root for every other use.
FROM runtime AS action
# hadolint ignore=DL3002
USER 0:0
