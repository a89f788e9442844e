# One shape for every Python image of the stack (agent-utilities, epistemic-graph,
# agent-webui, agent-terminal-ui): a slim Python, the image's era-locked requirements
# installed hash-checked without a resolver, and the unprivileged user 10001 the program
# runs them as, who owns the state directories the program mounts volumes on (a new volume
# takes the owner of the image's directory; images/<name>/STATE_DIRS, passed by build.sh).
# Build context: images/<name> (images/build.sh does it).
ARG PYTHON=3.11
FROM docker.io/library/python:${PYTHON}-slim-trixie
ARG STATE_DIRS=""
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock \
 && useradd --uid 10001 --user-group --home-dir /home/app --create-home app \
 && for d in $STATE_DIRS; do mkdir -p "$d" && chown 10001:10001 "$d"; done
USER 10001:10001
WORKDIR /home/app
