docker run --rm -v "$PWD:/src" ghcr.io/trusted-delivery/tdv:0.1.0 scan . --fail-on high -o sarif=tdv.sarif
