#!/usr/bin/env bash
# Undo scripts/swarm-setup.sh: remove the lab's resources (anything named with the lab prefix, and
# the leak fixtures' stacks), then, only where the setup's record says the setup made them, remove
# the lab image, leave the swarm and stop dockerd. Packages it installed stay installed (removing
# docker.io again costs more than it saves); the record keeps them listed.
#
# Environment: GHOSTGATES_LAB_STATE, GHOSTGATES_SOCKET as for swarm-setup.sh;
#   GHOSTGATES_LAB_PREFIX  the name prefix of lab resources (ghostlab-)
#   GHOSTGATES_KEEP_ENGINE=1  remove the lab resources only; keep image, swarm and dockerd
set -euo pipefail

STATE_DIR=${GHOSTGATES_LAB_STATE:-/var/lib/ghostgates-lab}
SOCKET=${GHOSTGATES_SOCKET:-/var/run/docker.sock}
PREFIX=${GHOSTGATES_LAB_PREFIX:-ghostlab-}
RECORD="$STATE_DIR/created"

say() { printf '[swarm-teardown] %s\n' "$*"; }
docker_cli() { docker -H "unix://$SOCKET" "$@"; }
recorded() { [ -f "$RECORD" ] && grep -q "^$1" "$RECORD"; }
unrecord() { [ -f "$RECORD" ] && sed -i "/^$1/d" "$RECORD"; }
# stop_recorded KEY COMM WHAT SECONDS: stop the process setup recorded under KEY, only if it is still
# the COMM it started (a pid may be reused), TERM first and KILL after SECONDS.
stop_recorded() {
    local pid
    pid=$(grep "^$1 " "$RECORD" | head -1 | cut -d' ' -f2)
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm=)" = "$2" ]; then
        say "stopping $3 (pid $pid, started by swarm-setup.sh)"
        kill -TERM "$pid"
        for _ in $(seq 1 $(($4 * 4))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && { say "$3 did not stop in $4 s: killing it"; kill -KILL "$pid"; }
    else
        say "$3 (pid $pid, started by swarm-setup.sh) no longer runs"
    fi
    return 0  # under set -e: a process that stopped on TERM leaves the last test false
}

if ! docker_cli version >/dev/null 2>&1; then
    say "no engine answers at $SOCKET: nothing to remove"
else
    # Lab resources: everything the lab makes carries the label ghostgates.lab=1 (the leak
    # reproduction's stacks have names like the CI's, so the label is what tells them apart);
    # names with the lab prefix are swept too, in case a label was missed.
    lab_objects() { # lab_objects KIND: names of lab objects of that kind
        local kind=$1 fmt='{{.Name}}'
        [ "$kind" = container ] && fmt='{{.Names}}'
        local ls=("$kind" ls)
        [ "$kind" = container ] && ls=(ps -a)
        {
            docker_cli "${ls[@]}" --filter label=ghostgates.lab=1 --format "$fmt"
            docker_cli "${ls[@]}" --format "$fmt" | grep -E "^${PREFIX}" || true
        } | sort -u
    }
    sweep() { # sweep KIND: remove the lab objects of one kind
        local kind=$1 names
        names=$(lab_objects "$kind")
        [ -n "$names" ] || return 0
        say "removing ${kind}s: $(echo "$names" | tr '\n' ' ')"
        if [ "$kind" = container ]; then
            echo "$names" | xargs docker -H "unix://$SOCKET" rm -f >/dev/null 2>&1 || true
        else
            echo "$names" | xargs docker -H "unix://$SOCKET" "$kind" rm >/dev/null 2>&1 || true
        fi
    }
    sweep service
    # a service's containers and network endpoints go a moment after the service
    for _ in $(seq 1 20); do
        sweep container
        [ -z "$(docker_cli ps -aq --filter label=com.docker.swarm.service.name --filter label=ghostgates.lab=1)" ] \
            && [ -z "$(lab_objects container)" ] && break
        sleep 0.5
    done
    sweep secret
    sweep config
    for _ in $(seq 1 20); do
        sweep network
        [ -z "$(lab_objects network)" ] && break
        sleep 0.5
    done
    sweep volume
    left=""
    for kind in service container secret config network volume; do
        names=$(lab_objects "$kind")
        [ -z "$names" ] || left="$left $kind: $(echo "$names" | tr '\n' ' ')"
    done
    if [ -n "$left" ]; then
        say "could not remove:$left"
        exit 1
    fi
    say "no lab resources remain"

    if [ "${GHOSTGATES_KEEP_ENGINE:-0}" = 1 ]; then
        say "GHOSTGATES_KEEP_ENGINE=1: keeping image, swarm and engine"
        exit 0
    fi
    if recorded "image "; then
        image=$(grep '^image ' "$RECORD" | head -1 | cut -d' ' -f2)
        say "removing image $image (built by swarm-setup.sh)"
        docker_cli image rm -f "$image" >/dev/null || true
        unrecord "image "
    fi
    if recorded "swarm-init"; then
        say "leaving the swarm (swarm-setup.sh initialised it)"
        docker_cli swarm leave --force >/dev/null || true
        unrecord "swarm-init"
    else
        say "the swarm was not initialised by swarm-setup.sh: leaving it as it is"
    fi
fi

if recorded "sshd-started "; then
    stop_recorded sshd-started sshd "the lab sshd" 5
    unrecord "sshd-started "
    rm -f "$STATE_DIR/ssh/sshd.pid" "$STATE_DIR/ssh/authorized_keys"
fi
if recorded "ssh-client-conf "; then
    conf=$(grep '^ssh-client-conf ' "$RECORD" | head -1 | cut -d' ' -f2)
    say "removing the lab's ssh client config $conf"
    rm -f "$conf"
    unrecord "ssh-client-conf "
fi

if recorded "dockerd-started "; then
    stop_recorded dockerd-started dockerd dockerd 20
    unrecord "dockerd-started "
    rm -f "$STATE_DIR/dockerd.pid"
elif recorded "systemd-started docker"; then
    say "stopping docker.service (started by swarm-setup.sh)"
    systemctl stop docker docker.socket || true
    unrecord "systemd-started docker"
else
    say "the engine was not started by swarm-setup.sh: leaving it running"
fi
say "done; still recorded: $( [ -f "$RECORD" ] && tr '\n' ';' <"$RECORD")"
