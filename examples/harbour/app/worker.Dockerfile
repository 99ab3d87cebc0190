# The tides worker: built from the same repository as the app (driftwood's code), with
# this second Dockerfile. Bases come from the local registry scripts/setup seeds.
FROM localhost:5000/library/python:3.11-slim AS build
WORKDIR /src
COPY driftwood/ ./driftwood/
COPY worker/ ./worker/
# A checkout's file modes follow the umask of whoever cloned it, and COPY keeps them:
# normalise them here so the shipped layer does not depend on who built it.
RUN chmod -R u=rwX,go=rX /src

FROM localhost:5000/library/python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY --from=build /src/ ./
USER 10001:10001
ENTRYPOINT ["python3", "-m", "worker.tides"]
